"""The code location the scale-out tests and benchmark run: one pipeline instance from
`build_pinterest_defs`, its daily job on `dagster_celery`'s executor.

Loaded by file path in three kinds of process: `dagster job execute -f` (the run worker), every
`dagster-celery worker` (each step), and the re-execution helper. What differs per test (warehouse,
state, fake API, clock) is in a JSON file named by `PINTEREST_SCALE_OUT_SETTINGS`, which the harness
writes and passes to every process it starts; see `harness.LocationSettings`.
"""

import json
import os

import dagster as dg
from dagster_celery import celery_executor

from pinterest_pipeline.dagster import build_pinterest_defs

# harness.SETTINGS_ENV (this file is loaded by path, not imported from the tests package)
_settings = json.loads(open(os.environ["PINTEREST_SCALE_OUT_SETTINGS"], encoding="utf-8").read())

defs = dg.Definitions.merge(
    build_pinterest_defs(
        extracts=_settings["extracts"],
        warehouse={"path": _settings["warehouse"]},
        # A DuckDB file path today; a postgresql:// URL once the PostgreSQL state store lands (see harness).
        state=_settings["state"],
        pinterest={
            "ad_account_id": _settings["ad_account_id"],
            "access_token_env": _settings["access_token_env"],
            "api_url": _settings["api_url"],
        },
        partitions={"start_date": _settings["start_date"], "timezone": "UTC"},
        fixed_now=_settings["fixed_now"],
        pool=_settings["pool"],
    ),
    # Every step of the job is a Celery task; the broker and backend come from the run config
    # (`execution: config: {broker, backend}`), the same file the workers start with.
    dg.Definitions(executor=celery_executor),
)
