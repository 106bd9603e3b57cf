"""The same day through the Dagster assets from each kind of warehouse: a DuckDB file, a directory of
Parquet files read by the SQL itself, and a real PostgreSQL read through ADBC in its own dialect.
The stored events must be byte for byte the same, and the warehouse is never written."""

from __future__ import annotations

import dagster as dg
import pytest

from tests.dagster_support import WAREHOUSE_KEYS, pipeline, warehouse  # noqa: F401  (fixtures)
from tests.warehouse_fixtures import PACKAGED_POSTGRESQL_SQL, copy_to_postgres, export_parquet

pytestmark = pytest.mark.slow

UP_TO_CONVERSIONS = dg.AssetSelection.assets("extract_orders", "extract_events", "pinterest_conversions")
URI_ENV = "PINTEREST_TEST_WAREHOUSE_URI"


def _events(pipeline, key: str) -> list[tuple]:
    return pipeline.sql(
        "SELECT source_row, event_json FROM pinterest_events WHERE partition_day = $day ORDER BY source_row",
        {"day": key},
    )


def _conversions(pipeline, key: str) -> list[tuple]:
    result = pipeline.materialize(UP_TO_CONVERSIONS, partition_key=key)
    assert result.success
    return _events(pipeline, key)


def test_parquet_and_postgresql_give_the_duckdb_files_events(pipeline, warehouse, tmp_path, postgres_server, monkeypatch):  # noqa: F811
    key = WAREHOUSE_KEYS[-1]
    reference = _conversions(pipeline, key)
    assert len(reference) > 20

    parquet_dir = export_parquet(warehouse, tmp_path / "parquet")
    pipeline.state = tmp_path / "from_parquet.duckdb"
    pipeline.overrides = {
        "warehouse": {},
        "extracts": {name: parquet_dir / f"{name}.sql" for name in ("extract_orders", "extract_events")},
    }
    assert _conversions(pipeline, key) == reference

    url = postgres_server.create_database()
    copy_to_postgres(warehouse, url)
    monkeypatch.setenv(URI_ENV, url)
    pipeline.state = tmp_path / "from_postgresql.duckdb"
    pipeline.overrides = {
        "warehouse": {"adbc_driver": "postgresql", "uri_env": URI_ENV},
        "extracts": {name: PACKAGED_POSTGRESQL_SQL / f"{name}.sql" for name in ("extract_orders", "extract_events")},
    }
    result = pipeline.materialize(UP_TO_CONVERSIONS, partition_key=key)
    assert result.success
    assert _events(pipeline, key) == reference
    # The URI (and its password) stays out of the run's logs and metadata.
    logged = " ".join(str(record) for record in pipeline.instance.all_logs(result.run_id))
    assert postgres_server.password not in logged
