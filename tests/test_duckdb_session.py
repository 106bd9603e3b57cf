"""The bounded DuckDB connection commands run in: memory limit (default or from the environment),
a private spill directory that DuckDB really spills into, its removal afterwards, and the NDJSON
output working within the limit."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from pinterest_pipeline.duckdb_session import DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV, bounded_connection
from pinterest_pipeline.ndjson_output import write_outputs


def setting(con, name: str) -> str:
    return con.execute("SELECT current_setting($name)", {"name": name}).fetchone()[0]


@pytest.mark.parametrize(
    ("environment", "expected"),
    [(None, DEFAULT_MEMORY_LIMIT), ("", DEFAULT_MEMORY_LIMIT), ("256MB", "256MB"), (" 2GB ", "2GB")],
)
def test_memory_limit_comes_from_the_environment_or_the_default(monkeypatch, environment, expected):
    if environment is None:
        monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    else:
        monkeypatch.setenv(MEMORY_LIMIT_ENV, environment)
    with bounded_connection() as con:
        applied = setting(con, "memory_limit")
        with bounded_connection() as reference:
            reference.execute("SET memory_limit = $limit", {"limit": expected})
            assert applied == setting(reference, "memory_limit")


def test_spill_directory_is_private_used_and_removed(monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64MB")
    monkeypatch.setattr(tempfile, "tempdir", None)  # so that TMPDIR is read again
    with bounded_connection() as con:
        spill = Path(setting(con, "temp_directory"))
        assert spill.parent == tmp_path and spill.name.startswith("pinterest-pipeline-duckdb-")
        # About 200 MB of distinct text: more than the limit, so the table must spill.
        con.execute("CREATE TABLE big AS SELECT repeat(md5(CAST(i AS VARCHAR)), 6) AS t FROM range(1000000) r(i)")
        assert con.execute("SELECT count(*) FROM big").fetchone()[0] == 1_000_000
        assert any(spill.iterdir())
    assert not spill.exists()


def test_ndjson_output_spills_keeps_order_and_restores_settings(monkeypatch, tmp_path):
    """About 100 MB of event lines through a 64 MB limit: written whole, in stored order, and the
    connection's thread and ordering settings are as before."""
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64MB")
    with bounded_connection() as con:
        con.execute("SET threads = 2")
        con.execute(
            "CREATE TABLE events AS SELECT '{\"n\":' || i || ',\"pad\":\"' || repeat(md5(CAST(i AS VARCHAR)), 10) || '\"}' "
            "AS event_json FROM range(300000) r(i)"
        )
        con.execute(
            "CREATE TABLE rejects AS SELECT 1::BIGINT AS source_row, 'e' AS event_id, 'e' AS source_key, "
            "'missing_identifier' AS reason, 'd' AS detail, DATE '2024-06-02' AS partition_day"
        )
        write_outputs(con, "events", "rejects", tmp_path / "events.ndjson", tmp_path / "rejects.ndjson")
        assert (setting(con, "threads"), setting(con, "preserve_insertion_order")) == (2, True)
    with open(tmp_path / "events.ndjson") as lines:
        numbers = [json.loads(line)["n"] for line in lines]
    assert numbers == list(range(300000))
