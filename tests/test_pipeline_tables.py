"""The state's per-day tables, on both stores: a day is replaced whole, and the day's source view
places every extracted row exactly once, in extract order, whatever the table held before."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from pinterest_pipeline.config import build_config
from pinterest_pipeline.state import TransformRecord
from pinterest_pipeline.transform import transform

DAY = date(2026, 11, 30)
OTHER_DAY = date(2026, 11, 29)
EXTRACTS = ["extract_orders", "extract_events"]
NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


def _rows(prefix: str, count: int) -> str:
    return (
        f"SELECT '{prefix}' || i AS event_id, 'checkout' AS event_name, TIMESTAMPTZ '2026-11-30 10:00:00+00' + "
        f"INTERVAL (i) SECOND AS event_time, 'web' AS action_source, 'u' || i || '@example.com' AS email, "
        f"[{{'content_id': 'sku-' || i, 'quantity': 2}}] AS contents, 12.50::DECIMAL(10, 2) AS value "
        f"FROM range({count}) t(i)"
    )


def _extract(store, table: str, day: date, sql: str) -> None:
    store.con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS {sql}")
    store.session.write_day(day, {table: "staged"})


@pytest.fixture
def extracted(store):
    # Days extracted before, one of them replaced since: the day's rows do not start at rowid 0,
    # and the replaced rows leave deleted ones behind (vacuumed at the checkpoint).
    _extract(store, "extract_orders", OTHER_DAY, _rows("old-o", 3000))
    _extract(store, "extract_events", OTHER_DAY, _rows("old-e", 5000))
    _extract(store, "extract_orders", DAY, _rows("o", 2500))
    _extract(store, "extract_events", DAY, _rows("e", 4000))
    _extract(store, "extract_orders", OTHER_DAY, _rows("new-o", 1000))
    if store.kind == "duckdb":
        store.con.execute("CHECKPOINT")
    store.reopen()
    return store


def test_the_day_view_places_orders_then_events_in_extract_order(extracted):
    extracted.session.stage_day_source(DAY, EXTRACTS, "day_source")
    places = extracted.con.execute("SELECT event_id, pp_source_position FROM day_source ORDER BY pp_source_position").fetchall()
    expected = [f"o{i}" for i in range(2500)] + [f"e{i}" for i in range(4000)]
    assert [event_id for event_id, _ in places] == expected
    assert [place for _, place in places] == list(range(6500))


def test_a_day_reads_back_with_its_types(extracted):
    """Lists of structs and decimals (stored as text on PostgreSQL) come back as they were written."""
    extracted.session.stage_day_source(DAY, EXTRACTS, "day_source")
    row = extracted.con.execute(
        "SELECT contents, value, typeof(contents), typeof(value) FROM day_source WHERE event_id = 'o7'"
    ).fetchall()
    assert row == [([{"content_id": "sku-7", "quantity": 2}], 12.5, "STRUCT(content_id VARCHAR, quantity INTEGER)[]", "DECIMAL(10,2)")]


def test_counts_per_day_after_replacement(extracted):
    assert extracted.session.extracted_rows(EXTRACTS, [OTHER_DAY]) == 1000 + 5000
    assert extracted.session.extracted_rows(EXTRACTS, [DAY]) == 2500 + 4000
    assert extracted.session.extracted_rows(EXTRACTS, None) == 1000 + 5000 + 2500 + 4000


def test_a_transformed_day_is_stored_with_its_record_and_staged_again(extracted):
    session = extracted.session
    session.stage_day_source(DAY, EXTRACTS, "day_source")
    result = transform(
        session.con, "day_source", build_config(), now=NOW,
        events_table="staged_events", rejects_table="staged_rejects", temporary=True,
    )
    session.write_day(
        DAY, {"pinterest_events": "staged_events", "pinterest_rejects": "staged_rejects"},
        transform_record=TransformRecord(NOW, 7 * 86400, 300),
    )
    extracted.reopen()
    session = extracted.session
    events = session.stage_events([DAY], "day_events", columns=["source_row", "event_id"])
    rows = session.con.execute(f"SELECT source_row, event_id FROM {events} ORDER BY source_row").fetchall()
    assert (result.rows_in, result.events) == (6500, 6500)
    assert rows == [(i + 1, f"o{i}") for i in range(2500)] + [(2500 + i + 1, f"e{i}") for i in range(4000)]
    assert session.transform_records([DAY]) == {DAY: TransformRecord(NOW, 7 * 86400, 300)}
    assert session.rejects_by_reason([DAY]) == {}
    assert session.stage_checked_events([DAY], EXTRACTS) == 6500


# The in-place read is the DuckDB file's: PostgreSQL days are copied into the step's DuckDB.
@pytest.mark.parametrize("store", ["duckdb"], indirect=True)
def test_the_transform_reads_the_day_view_in_place(store, extracted):
    store.session.stage_day_source(DAY, EXTRACTS, "day_source")
    transform(
        store.con, "day_source", build_config(), now=NOW, events_table="events", rejects_table="rejects", temporary=True,
    )
    assert not store.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'pp_source_rows'").fetchone()[0]


def test_a_day_with_only_one_extract(extracted):
    extracted.con.execute("CREATE OR REPLACE TEMP TABLE nothing AS SELECT * FROM (" + _rows("x", 0) + ")")
    extracted.session.write_day(DAY, {"extract_orders": "nothing"})
    extracted.session.stage_day_source(DAY, EXTRACTS, "day_source")
    places = extracted.con.execute("SELECT min(pp_source_position), max(pp_source_position), count(*) FROM day_source").fetchone()
    assert places == (0, 3999, 4000)
