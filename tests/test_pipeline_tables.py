"""The pipeline database's per-day tables: a day is replaced whole, and the day's source view
places every extracted row exactly once, in extract order, whatever the table held before."""

from __future__ import annotations

from datetime import date, datetime, timezone

import duckdb
import pytest

from pinterest_pipeline.config import build_config
from pinterest_pipeline.pipeline_tables import replace_day, stage_day_source, transaction
from pinterest_pipeline.transform import transform

DAY = date(2026, 11, 30)
OTHER_DAY = date(2026, 11, 29)


def _rows(prefix: str, count: int) -> str:
    return (
        f"SELECT '{prefix}' || i AS event_id, 'checkout' AS event_name, TIMESTAMPTZ '2026-11-30 10:00:00+00' + "
        f"INTERVAL (i) SECOND AS event_time, 'web' AS action_source, 'u' || i || '@example.com' AS email "
        f"FROM range({count}) t(i)"
    )


def _extract(con: duckdb.DuckDBPyConnection, table: str, day: date, sql: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS {sql}")
    with transaction(con):
        replace_day(con, table, "staged", day)


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "pipeline.duckdb")) as con:
        # Days extracted before, one of them replaced since: the day's rows do not start at rowid 0,
        # and the replaced rows leave deleted ones behind (vacuumed at the checkpoint).
        _extract(con, "extract_orders", OTHER_DAY, _rows("old-o", 3000))
        _extract(con, "extract_events", OTHER_DAY, _rows("old-e", 5000))
        _extract(con, "extract_orders", DAY, _rows("o", 2500))
        _extract(con, "extract_events", DAY, _rows("e", 4000))
        _extract(con, "extract_orders", OTHER_DAY, _rows("new-o", 1000))
        con.execute("CHECKPOINT")
        yield con


def test_the_day_view_places_orders_then_events_in_extract_order(con):
    stage_day_source(con, DAY, "day_source")
    places = con.execute("SELECT event_id, pp_source_position FROM day_source ORDER BY pp_source_position").fetchall()
    expected = [f"o{i}" for i in range(2500)] + [f"e{i}" for i in range(4000)]
    assert [event_id for event_id, _ in places] == expected
    assert [place for _, place in places] == list(range(6500))


def test_the_transform_reads_the_day_view_in_place(con):
    stage_day_source(con, DAY, "day_source")
    result = transform(
        con, "day_source", build_config(), now=datetime(2026, 11, 30, 12, tzinfo=timezone.utc),
        events_table="events", rejects_table="rejects", temporary=True,
    )
    rows = con.execute("SELECT source_row, event_id FROM events ORDER BY rowid").fetchall()
    assert (result.rows_in, result.events) == (6500, 6500)
    assert rows == [(i + 1, f"o{i}") for i in range(2500)] + [(2500 + i + 1, f"e{i}") for i in range(4000)]
    # No copy of the day was made: the view was read as it is.
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'pp_source_rows'").fetchone()[0]


def test_a_day_with_only_one_extract(con):
    con.execute("DELETE FROM extract_orders WHERE partition_day = $day", {"day": DAY})
    stage_day_source(con, DAY, "day_source")
    places = con.execute("SELECT min(pp_source_position), max(pp_source_position), count(*) FROM day_source").fetchone()
    assert places == (0, 3999, 4000)
