"""`defs`: what `dagster dev -w workspace.yaml` and `dagster definitions validate` load from a checkout.

One pipeline instance built with the factory over the repository's `sql/` files. It reads its
settings from the environment here, in the example, at load time (the factory itself never does),
and defaults to the files and the fake API of `pinterest-pipeline demo`:

| variable | used for | default |
|---|---|---|
| `PINTEREST_AD_ACCOUNT_ID` | ad account that receives the events | the fake API's |
| `PINTEREST_ACCESS_TOKEN` | API token (read through `dg.EnvVar` at run time, never shown) | required to upload |
| `PINTEREST_API_URL` | API base URL | `http://127.0.0.1:8089` (`pinterest-pipeline fake-api`) |
| `PINTEREST_WAREHOUSE_PATH` | warehouse DuckDB file, attached read-only | `pinterest_demo/warehouse.duckdb` |
| `PINTEREST_PIPELINE_STATE` | the pipeline's DuckDB file (events, ledger) | `.pinterest_pipeline/pipeline.duckdb` |
| `PINTEREST_PIPELINE_START_DATE`, `PINTEREST_PIPELINE_PARTITION_TIMEZONE` | the daily partitions | 2025-01-01, UTC |
| `PINTEREST_PIPELINE_NOW` | fixed ISO-8601 clock instead of the wall clock | none |
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pinterest_pipeline.dagster import build_pinterest_defs
from pinterest_pipeline.fake_api.embedded import DEFAULT_AD_ACCOUNT_ID

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


def _setting(name: str, default: str | None) -> str | None:
    return os.environ.get(name) or default


@dg.definitions
def defs() -> dg.Definitions:
    return build_pinterest_defs(
        extracts={"extract_orders": SQL_DIR / "extract_orders.sql", "extract_events": SQL_DIR / "extract_events.sql"},
        warehouse={"path": _setting("PINTEREST_WAREHOUSE_PATH", "pinterest_demo/warehouse.duckdb")},
        state=_setting("PINTEREST_PIPELINE_STATE", ".pinterest_pipeline/pipeline.duckdb"),
        pinterest={
            "ad_account_id": _setting("PINTEREST_AD_ACCOUNT_ID", DEFAULT_AD_ACCOUNT_ID),
            "access_token_env": "PINTEREST_ACCESS_TOKEN",
            "api_url": _setting("PINTEREST_API_URL", "http://127.0.0.1:8089"),
        },
        partitions={
            "start_date": _setting("PINTEREST_PIPELINE_START_DATE", "2025-01-01"),
            "timezone": _setting("PINTEREST_PIPELINE_PARTITION_TIMEZONE", "UTC"),
        },
        schedule={"hour_of_day": 2, "minute_of_hour": 0},
        fixed_now=_setting("PINTEREST_PIPELINE_NOW", None),
    )
