"""The bounded DuckDB connection commands run in: memory limit (default or from the environment),
a private spill directory that DuckDB really spills into, its removal afterwards, and the NDJSON
output working within the limit."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pinterest_pipeline.config import build_config
from pinterest_pipeline.support.duckdb_session import DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV, bounded_connection
from pinterest_pipeline.transform import check_rows
from pinterest_pipeline.transform.ndjson_output import write_transform_files


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
    """About 150 MB of events (a long user agent each) through a 64 MB limit: written whole, in input
    order, and the connection's thread and ordering settings are as before."""
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64MB")
    with bounded_connection() as con:
        con.execute("SET threads = 2")
        con.execute(
            "CREATE TABLE src AS SELECT 'e' || i AS event_id, 'checkout' AS event_name, "
            "TIMESTAMPTZ '2024-06-02 10:00:00+00' AS event_time, 'web' AS action_source, "
            "CASE WHEN i % 1000 = 7 THEN NULL ELSE 'u' || i || '@example.com' END AS email, "
            "repeat(md5(CAST(i AS VARCHAR)), 6) AS client_user_agent FROM range(300000) r(i)"
        )
        now = datetime(2024, 6, 2, 12, 0, tzinfo=timezone.utc)
        checked = check_rows(con, "src", build_config(), now=now)
        write_transform_files(con, checked, tmp_path / "events.ndjson", tmp_path / "rejects.ndjson")
        assert (setting(con, "threads"), setting(con, "preserve_insertion_order")) == (2, True)
    with open(tmp_path / "events.ndjson") as lines:
        ids = [json.loads(line)["event_id"] for line in lines]
    assert ids == [f"e{i}" for i in range(300000) if i % 1000 != 7]
    with open(tmp_path / "rejects.ndjson") as lines:
        rejects = [json.loads(line) for line in lines]
    assert [(r["event_id"], r["source_row"], r["reason"]) for r in rejects] == [
        (f"e{i}", i + 1, "missing_identifier") for i in range(300000) if i % 1000 == 7
    ]
