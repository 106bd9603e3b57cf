"""Event texts are stored with zstd where the pipeline database's file format can hold it, and
with DuckDB's own choice elsewhere; either way they read back byte for byte."""

from __future__ import annotations

import duckdb
import pytest

from pinterest_pipeline.support.storage import column_definitions

COLUMNS = {"source_row": "BIGINT", "event_json": "VARCHAR"}
# Unique lines with a repeated digest, like a day of events.
ROWS_SQL = (
    "SELECT i AS source_row, '{\"event_id\":\"e' || i || '\",\"user_data\":{\"country\":[\"' || sha256('us') "
    "|| '\"],\"em\":[\"' || sha256(CAST(i AS VARCHAR)) || '\"]}}' AS event_json FROM range(50000) t(i)"
)


def _stored(con: duckdb.DuckDBPyConnection) -> set[str]:
    con.execute(f"CREATE TABLE events ({column_definitions(con, COLUMNS)})")
    con.execute(f"INSERT INTO events {ROWS_SQL}")
    con.execute("CHECKPOINT")
    assert con.execute(f"SELECT count(*) FROM events JOIN ({ROWS_SQL}) USING (source_row, event_json)").fetchone() == (50000,)
    rows = con.execute(
        "SELECT DISTINCT compression FROM pragma_storage_info('events') WHERE column_name = 'event_json'"
    ).fetchall()
    return {compression for (compression,) in rows}


def test_a_current_file_stores_event_texts_with_zstd(tmp_path):
    with duckdb.connect(str(tmp_path / "pipeline.duckdb")) as con:
        assert "USING COMPRESSION zstd" in column_definitions(con, COLUMNS)
        assert "ZSTD" in _stored(con)


@pytest.mark.parametrize("storage_version", ["v1.0.0", "v1.1.0"])
def test_an_older_file_format_keeps_duckdbs_own_compression(tmp_path, storage_version):
    # Such a file refuses a zstd column (or would store it uncompressed): DuckDB compresses the texts its own way.
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{tmp_path / 'old.duckdb'}' AS old (STORAGE_VERSION '{storage_version}')")
        con.execute("USE old")
        assert "zstd" not in column_definitions(con, COLUMNS)
        compressions = _stored(con) - {"Constant"}
        assert compressions and not compressions & {"ZSTD", "Uncompressed"}


def test_an_in_memory_database_asks_for_nothing():
    with duckdb.connect() as con:
        assert column_definitions(con, COLUMNS) == '"source_row" BIGINT, "event_json" VARCHAR'
