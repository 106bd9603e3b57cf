"""The daily job over the four assets and their checks, and the schedule that runs it for yesterday."""

from __future__ import annotations

import warnings

import dagster as dg

from dagster_project.assets import GROUP

# The job runs one partition per run (the schedule's), where backfill policies play no part;
# backfills are launched on the assets, and each asset keeps its own policy there. Dagster still
# warns that the job's assets differ in policy (also for the implicit job of `dg.materialize`),
# which is by design here.
warnings.filterwarnings(
    "ignore",
    message=r"Asset job (pinterest_daily|__ephemeral_asset_job__) materializes assets with varying BackfillPolicies",
)

pinterest_daily_job = dg.define_asset_job(
    name="pinterest_daily",
    selection=dg.AssetSelection.groups(GROUP),
    description="Extract, transform, check and send one day of conversions.",
)

# A partitioned job's schedule requests the last complete partition: at 02:00 in the partitions'
# time zone it sends yesterday, leaving late-landing warehouse rows two hours to arrive.
pinterest_daily_schedule = dg.build_schedule_from_partitioned_job(
    pinterest_daily_job,
    name="pinterest_daily_schedule",
    hour_of_day=2,
    minute_of_hour=0,
    description="Sends yesterday's conversions (in the partitions' time zone) every night.",
)
