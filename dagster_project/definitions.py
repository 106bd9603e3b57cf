"""`defs`: what `dagster dev -w workspace.yaml` and `dagster definitions validate` load.

Settings come from the environment, so the same code runs the demo, a laptop and production:

| variable | used for | default |
|---|---|---|
| `PINTEREST_AD_ACCOUNT_ID` | ad account that receives the events | required to upload |
| `PINTEREST_ACCESS_TOKEN` | API token (read through `dg.EnvVar`, never shown) | required to upload |
| `PINTEREST_API_URL` | API base URL (the local fake for rehearsals) | `https://api.pinterest.com` |
| `PINTEREST_TEST_MODE` | `true`: send with `?test=true` | `false` |
| `PINTEREST_WAREHOUSE_PATH` | warehouse DuckDB file, attached read-only | `warehouse.duckdb` |
| `PINTEREST_PIPELINE_STATE` | the pipeline's DuckDB file (events, ledger) | `.pinterest_pipeline/pipeline.duckdb` |
| `PINTEREST_PIPELINE_CONFIG` | TOML file of engine settings | none |
| `PINTEREST_PIPELINE_NOW` | fixed ISO-8601 clock instead of the wall clock | none |
| `PINTEREST_PIPELINE_START_DATE`, `PINTEREST_PIPELINE_PARTITION_TIMEZONE` | the daily partitions | 2025-01-01, UTC |

Other `PINTEREST_PIPELINE_*` variables set engine keys (e.g. `PINTEREST_PIPELINE_DEFAULT_COUNTRY=us`).
"""

from __future__ import annotations

import os

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.assets import extract_events, extract_orders, pinterest_conversions, pinterest_upload
from dagster_project.checks import conversion_checks, upload_accounts_for_every_row
from dagster_project.jobs import pinterest_daily_job, pinterest_daily_schedule
from dagster_project.resources import (
    DEFAULT_API_URL,
    ClockResource,
    PinterestResource,
    PipelineConfigResource,
    WarehouseResource,
)
from pinterest_pipeline.config import DEFAULT_STATE_PATH


def _setting(name: str, default: str | None) -> str | None:
    return os.environ.get(name) or default


def resources_from_environment() -> dict[str, dg.ConfigurableResource]:
    """The resources, configured from the environment as it is now (see the table above)."""
    return {
        "pinterest": PinterestResource(
            ad_account_id=dg.EnvVar("PINTEREST_AD_ACCOUNT_ID"),
            access_token=dg.EnvVar("PINTEREST_ACCESS_TOKEN"),
            api_url=_setting("PINTEREST_API_URL", DEFAULT_API_URL),
            test_mode=_setting("PINTEREST_TEST_MODE", "false").strip().lower() in ("1", "true", "yes"),
        ),
        "warehouse": WarehouseResource(path=_setting("PINTEREST_WAREHOUSE_PATH", "warehouse.duckdb")),
        "pipeline_db": DuckDBResource(database=_setting("PINTEREST_PIPELINE_STATE", str(DEFAULT_STATE_PATH))),
        "pipeline_config": PipelineConfigResource(config_file=_setting("PINTEREST_PIPELINE_CONFIG", None)),
        "clock": ClockResource(fixed_now=_setting("PINTEREST_PIPELINE_NOW", None)),
    }


ASSETS = [extract_orders, extract_events, pinterest_conversions, pinterest_upload]
ASSET_CHECKS = [conversion_checks, upload_accounts_for_every_row]


def build_definitions(resources: dict[str, dg.ConfigurableResource]) -> dg.Definitions:
    """Everything, bound to `resources` (the demo binds its own, made after it set the environment)."""
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=[pinterest_daily_job],
        schedules=[pinterest_daily_schedule],
        # Steps of one run share one DuckDB file: run them one after the other in the run's process.
        executor=dg.in_process_executor,
        resources=resources,
    )


defs = build_definitions(resources_from_environment())
