"""`transform --warehouse W --day D --state S` stores the day as the assets do: the extracts, the
events, the rejects and the transform's clock, in either store; the files are written as without."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pinterest_pipeline.cli import main
from pinterest_pipeline.sample.warehouse import generate_sample_warehouse
from pinterest_pipeline.state import TransformRecord

pytestmark = pytest.mark.timeout(120)
NOW = datetime(2026, 3, 2, 6, tzinfo=timezone.utc)
EXTRACTS = ["extract_orders", "extract_events"]


@pytest.mark.parametrize("given_by", ["option", "environment"])
def test_transform_stores_the_warehouse_day(store, tmp_path, monkeypatch, given_by):
    day = NOW.date() - timedelta(days=1)
    warehouse = tmp_path / "shop.duckdb"
    generate_sample_warehouse(warehouse, days=1, rows_per_day=300, seed=1, end=NOW.date())
    store.close()  # the command opens the state itself (a DuckDB file admits one process)
    args = ["transform", "--warehouse", str(warehouse), "--day", day.isoformat(), "--now", NOW.isoformat(),
            "--out", str(tmp_path / "events.ndjson"), "--rejected", str(tmp_path / "rejects.ndjson")]
    if given_by == "option":
        args += ["--state", store.location]
    else:
        monkeypatch.setenv("PINTEREST_PIPELINE_STATE", store.location)
    assert main(args) == 0
    events = (tmp_path / "events.ndjson").read_text().splitlines()
    rejects = (tmp_path / "rejects.ndjson").read_text().splitlines()
    store.reopen()
    session = store.session
    staged = session.stage_events([day], "day_events", columns=["source_row", "event_json"])
    stored = [text for (text,) in session.con.execute(f"SELECT event_json FROM {staged} ORDER BY source_row").fetchall()]
    assert session.extracted_rows(EXTRACTS, [day]) == len(events) + len(rejects)
    assert stored == events  # the file's lines, in order
    assert sum(session.rejects_by_reason([day]).values()) == len(rejects)
    assert session.transform_records([day]) == {day: TransformRecord(NOW, 7 * 86400, 300)}
