"""The four assets, one daily partition each: warehouse -> extracts -> Pinterest events -> Pinterest.

Each asset is a thin call into the engine for every day of its run. Extract and transform take a
whole backfill range in one run (`BackfillPolicy.single_run()`) and still record metadata per day;
the upload goes one day per run, so a refused or failing day does not hold back the others.

Every step writes the same DuckDB file, which admits one writing process at a time, so all of them
(checks too) share the concurrency pool `PIPELINE_DB_POOL`; `dagster.yaml` limits it to 1.
Retries cover crashes only (a killed process, a lock held too long): errors the user has to fix
(configuration, token, refused checks) fail at once, with a one-line message.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project import check_gate
from dagster_project.checks import BLOCKING_CHECK_KEYS
from dagster_project.metadata import conversion_metadata, delivery_metadata, extract_metadata
from dagster_project.partitions import daily_partitions, day_window, partition_day
from pinterest_pipeline.pipeline_tables import (
    EVENTS_TABLE,
    REJECTS_TABLE,
    record_transform,
    replace_day,
    stage_day_source,
    transaction,
)
from dagster_project.resources import (
    PIPELINE_DB_POOL,
    ClockResource,
    PinterestResource,
    PipelineConfigResource,
    WarehouseResource,
    pipeline_connection,
)
from pinterest_pipeline.delivery import deliver
from pinterest_pipeline.errors import PipelineError
from pinterest_pipeline.transform import transform

GROUP = "pinterest"
CRASH_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)

# Scratch tables of one run (the transform's are temporary), replaced on every use and dropped when
# the day is written.
_STAGED_EXTRACT = "staged_extract"
_DAY_SOURCE = "conversion_source"
_STAGED_EVENTS = "staged_pinterest_events"
_STAGED_REJECTS = "staged_pinterest_rejects"


@contextmanager
def _user_errors_fail_without_retry() -> Iterator[None]:
    """Turn errors the user must fix into a `Failure` the retry policy does not repeat."""
    try:
        yield
    except PipelineError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None


def _extract(
    context: dg.AssetExecutionContext, name: str, warehouse: WarehouseResource, pipeline_db: DuckDBResource
) -> None:
    """Run `sql/<name>.sql` for each day of the run into the pipeline database's table `name`."""
    with _user_errors_fail_without_retry(), pipeline_connection(pipeline_db) as con:
        for key in context.partition_keys:
            start, end = day_window(daily_partitions, key)
            # Staged in memory: the rows are compressed into the file once, by the day's replacement.
            rows = warehouse.extract(con, name, start, end, _STAGED_EXTRACT, temporary=True)
            with transaction(con):
                replace_day(con, name, _STAGED_EXTRACT, partition_day(key))
            context.add_asset_metadata(extract_metadata(rows, start, end), partition_key=key)
        con.execute(f"DROP TABLE IF EXISTS {_STAGED_EXTRACT}")


_EXTRACT_OPTIONS = dict(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"duckdb", "sql"},
    pool=PIPELINE_DB_POOL,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=CRASH_RETRY,
)


@dg.asset(
    description="Orders of the day, as conversion rows: sql/extract_orders.sql run on the warehouse (read-only)"
    " for the partition's window, stored in the pipeline database.",
    **_EXTRACT_OPTIONS,
)
def extract_orders(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline_db: DuckDBResource
) -> dg.MaterializeResult:
    _extract(context, "extract_orders", warehouse, pipeline_db)
    return dg.MaterializeResult()


@dg.asset(
    description="Behavioural events of the day (sign-ups, add-to-carts, searches, page views...), as conversion"
    " rows: sql/extract_events.sql run on the warehouse (read-only), stored in the pipeline database.",
    **_EXTRACT_OPTIONS,
)
def extract_events(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline_db: DuckDBResource
) -> dg.MaterializeResult:
    _extract(context, "extract_events", warehouse, pipeline_db)
    return dg.MaterializeResult()


@dg.asset(
    deps=[extract_orders, extract_events],
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"duckdb", "sql"},
    pool=PIPELINE_DB_POOL,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=CRASH_RETRY,
    description="The day's Pinterest events, exactly as they will be sent (identifiers normalized and SHA-256"
    " hashed inside DuckDB, event names mapped), and the rows that cannot be sent with a reason each.",
)
def pinterest_conversions(
    context: dg.AssetExecutionContext,
    pipeline_db: DuckDBResource,
    pipeline_config: PipelineConfigResource,
    clock: ClockResource,
) -> dg.MaterializeResult:
    # Each day is transformed on its own, so a day's events, rejects and duplicates are the same
    # whether it ran alone (the daily schedule) or inside a backfill range.
    with _user_errors_fail_without_retry(), pipeline_connection(pipeline_db) as con:
        config = pipeline_config.load(daily_partitions.timezone)
        now = clock.now()
        for key in context.partition_keys:
            day = partition_day(key)
            stage_day_source(con, day, _DAY_SOURCE)
            result = transform(
                con, _DAY_SOURCE, config, now=now, events_table=_STAGED_EVENTS, rejects_table=_STAGED_REJECTS,
                temporary=True,
            )
            with transaction(con):
                replace_day(con, EVENTS_TABLE, _STAGED_EVENTS, day)
                replace_day(con, REJECTS_TABLE, _STAGED_REJECTS, day)
                record_transform(
                    con,
                    day,
                    now,
                    int(config.max_event_age.total_seconds()),
                    int(config.max_future_skew.total_seconds()),
                )
            context.add_asset_metadata(conversion_metadata(con, _STAGED_EVENTS, result), partition_key=key)
        for scratch in (_STAGED_EVENTS, _STAGED_REJECTS):
            con.execute(f"DROP TABLE IF EXISTS {scratch}")
        con.execute(f"DROP VIEW IF EXISTS {_DAY_SOURCE}")
    return dg.MaterializeResult()


@dg.asset(
    deps=[pinterest_conversions],
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"pinterest"},
    pool=PIPELINE_DB_POOL,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
    retry_policy=CRASH_RETRY,
    description="The day's events sent to the Pinterest API for Conversions, through the delivery ledger: a"
    " re-run sends only what is not settled yet. Refuses to send a day whose blocking checks did not pass.",
)
def pinterest_upload(
    context: dg.AssetExecutionContext,
    pipeline_db: DuckDBResource,
    pipeline_config: PipelineConfigResource,
    pinterest: PinterestResource,
) -> dg.MaterializeResult:
    problems = [
        problem
        for key in context.partition_keys
        for problem in check_gate.refusals(context.instance, pinterest_conversions.key, BLOCKING_CHECK_KEYS, key)
    ]
    if problems:
        raise dg.Failure(description=check_gate.refusal_message(problems), allow_retries=False)
    with _user_errors_fail_without_retry(), pipeline_connection(pipeline_db) as con:
        config = pinterest.delivery_config(pipeline_config.load(daily_partitions.timezone))
        target = pinterest.target()
        for key in context.partition_keys:
            report = deliver(con, EVENTS_TABLE, target, config, partition_days=[partition_day(key)])
            context.add_asset_metadata(delivery_metadata(report), partition_key=key)
    return dg.MaterializeResult()
