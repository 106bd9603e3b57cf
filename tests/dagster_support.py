"""Helpers for the Dagster tests: a small sample warehouse, the fake API, one pipeline instance built
with the factory over both, and `materialize()` wrapped to run real Dagster runs against one
persistent test instance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from pinterest_pipeline.dagster import build_pinterest_defs
from pinterest_pipeline.fake_api import FakePinterestApi
from pinterest_pipeline.sample.warehouse import generate_sample_warehouse
from pinterest_pipeline.support.environment import variable_set
from pinterest_pipeline.support.package_files import sql_path

ROWS_PER_DAY = 60
WAREHOUSE_DAYS = 3
# Partitions are UTC days (the default); the warehouse holds the WAREHOUSE_DAYS days before today.
TODAY = datetime.now(timezone.utc).date()
WAREHOUSE_KEYS = [(TODAY - timedelta(days=n)).isoformat() for n in range(WAREHOUSE_DAYS, 0, -1)]
# A day inside the partitions with no warehouse rows at all.
EMPTY_DAY_KEY = (TODAY - timedelta(days=WAREHOUSE_DAYS + 2)).isoformat()
# The clock of every test run: shortly after midnight today, so every warehouse day is complete and recent.
NOW = datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc) + timedelta(minutes=30)

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


# The variable the tests' pipelines read their token from (bound as dg.EnvVar, set only during a run).
TOKEN_ENV = "PINTEREST_TEST_ACCESS_TOKEN"
EXTRACTS = {"extract_orders": sql_path("extract_orders.sql"), "extract_events": sql_path("extract_events.sql")}


@dataclass
class Pipeline:
    """One pipeline database, one Dagster instance and one fake API, for one test."""

    instance: dg.DagsterInstance
    fake_api: FakePinterestApi
    state: Path
    warehouse: Path
    now: datetime = NOW
    access_token: str | None = None  # None: the fake's own
    settings: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)  # other factory arguments (warehouse, extracts, ...)

    def definitions(self, **overrides: Any) -> dg.Definitions:
        """The pipeline's definitions from the factory, as a user's code location builds them."""
        arguments = {
            "extracts": EXTRACTS,
            "warehouse": {"path": str(self.warehouse)},
            "state": str(self.state),
            "pinterest": {
                "ad_account_id": self.fake_api.ad_account_id,
                "access_token_env": TOKEN_ENV,
                "api_url": self.fake_api.url,
            },
            "partitions": {"start_date": "2025-01-01", "timezone": "UTC"},
            "settings": self.settings,
            "schedule": {"hour_of_day": 2, "minute_of_hour": 0},
            "fixed_now": self.now.isoformat(),
        }
        return build_pinterest_defs(**{**arguments, **self.overrides, **overrides})

    def token_in_environment(self):
        return variable_set(TOKEN_ENV, self.access_token or self.fake_api.access_token)

    def materialize(
        self,
        selection: dg.AssetSelection | None = None,
        *,
        partition_key: str | None = None,
        partition_range: tuple[str, str] | None = None,
        raise_on_error: bool = True,
    ) -> dg.ExecuteInProcessResult:
        """One real run over `selection` (default: every asset and check) for one day or a range."""
        tags = {RANGE_START_TAG: partition_range[0], RANGE_END_TAG: partition_range[1]} if partition_range else None
        definitions = self.definitions()
        with self.token_in_environment():
            return dg.materialize(
                [*definitions.assets, *definitions.asset_checks],
                selection=selection,
                partition_key=partition_key,
                tags=tags,
                instance=self.instance,
                resources=definitions.resources,
                run_config=QUIET,
                raise_on_error=raise_on_error,
            )

    def sql(self, query: str, params: dict | None = None) -> list[tuple]:
        with duckdb.connect(str(self.state)) as con:
            return con.execute(query, params).fetchall()


def materialization_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, dict[str, Any]]:
    """Partition key -> plain metadata values of `asset`'s materializations in `result`."""
    found = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization.asset_key == dg.AssetKey(asset):
            found[materialization.partition] = {k: v.value for k, v in materialization.metadata.items()}
    return found


def check_evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def day(key: str) -> date:
    return date.fromisoformat(key)


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Path:
    """A sample warehouse of WAREHOUSE_DAYS small days ending yesterday, shared read-only by all tests."""
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    generate_sample_warehouse(path, days=WAREHOUSE_DAYS, rows_per_day=ROWS_PER_DAY, end=TODAY)
    return path


@pytest.fixture
def pipeline(tmp_path, warehouse) -> Iterator[Pipeline]:
    """A fresh pipeline database and Dagster instance, and a fake API recording what it receives."""
    with dg.instance_for_test() as instance, FakePinterestApi() as fake_api:
        yield Pipeline(instance=instance, fake_api=fake_api, state=tmp_path / "pipeline.duckdb", warehouse=warehouse)
