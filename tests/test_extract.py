"""Extracting one window of the sample warehouse into contract rows (docs/rules.md, "The source contract").

The extract is where partitions are cut, so the window must be half-open (a row at midnight belongs
to exactly one day), re-running it must replace rather than append, and the warehouse must stay
untouched: it is attached read-only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import duckdb
import pytest

from pinterest_pipeline.errors import InputError
from pinterest_pipeline.extract import day_window, extract_window
from pinterest_pipeline.sample.warehouse import generate_sample_warehouse

END = date(2026, 5, 1)
DAYS = (date(2026, 4, 28), date(2026, 4, 29), date(2026, 4, 30))
UTC = timezone.utc

PRODUCTS_TYPE = (
    'STRUCT(product_id VARCHAR, price DECIMAL(10,2), quantity INTEGER, "name" VARCHAR, category VARCHAR, '
    "brand VARCHAR)[]"
)
IDENTITY_COLUMNS = {
    "email": "VARCHAR", "phone": "VARCHAR", "first_name": "VARCHAR", "last_name": "VARCHAR",
    "gender": "VARCHAR", "date_of_birth": "VARCHAR", "city": "VARCHAR", "state": "VARCHAR", "zip": "VARCHAR",
    "country": "VARCHAR", "external_id": "VARCHAR",
}
EXPECTED_COLUMNS = {
    "extract_orders": {
        "event_id": "VARCHAR", "event_name": "VARCHAR", "event_time": "TIMESTAMP WITH TIME ZONE",
        "action_source": "VARCHAR", **IDENTITY_COLUMNS, "maid": "VARCHAR[]", "client_ip_address": "VARCHAR",
        "client_user_agent": "VARCHAR", "event_source_url": "VARCHAR", "opt_out_type": "VARCHAR",
        "value": "DECIMAL(12,2)", "currency": "VARCHAR", "order_id": "VARCHAR", "products": PRODUCTS_TYPE,
    },
    "extract_events": {
        "event_id": "VARCHAR", "event_name": "VARCHAR", "event_time": "TIMESTAMP WITH TIME ZONE",
        "action_source": "VARCHAR", **IDENTITY_COLUMNS, "maid": "VARCHAR[]", "client_ip_address": "VARCHAR",
        "client_user_agent": "VARCHAR", "event_source_url": "VARCHAR", "language": "VARCHAR",
        "opt_out": "BOOLEAN", "opt_out_type": "VARCHAR", "value": "DECIMAL(12,2)", "currency": "VARCHAR",
        "search_string": "VARCHAR", "content_category": "VARCHAR", "products": PRODUCTS_TYPE,
        "app_id": "VARCHAR", "app_name": "VARCHAR", "app_version": "VARCHAR", "device_brand": "VARCHAR",
        "device_carrier": "VARCHAR", "device_model": "VARCHAR", "device_type": "VARCHAR",
        "os_version": "VARCHAR", "wifi": "BOOLEAN",
    },
}
# Which warehouse table and time column each extract reads.
SOURCES = {"extract_orders": ("orders", "placed_at"), "extract_events": ("events", "occurred_at")}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("warehouse") / "shop.duckdb"
    generate_sample_warehouse(path, days=len(DAYS), rows_per_day=3_000, seed=0, end=END)
    return path


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


def _warehouse_count(path, name, start, end):
    table, column = SOURCES[name]
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            f"SELECT count(*) FROM {table} WHERE {column} >= $start AND {column} < $end", {"start": start, "end": end}
        ).fetchone()[0]


@pytest.mark.parametrize(
    ("day", "tz", "start_utc", "end_utc"),
    [
        (date(2026, 4, 30), "UTC", datetime(2026, 4, 30, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)),
        (date(2026, 4, 30), "Asia/Tokyo", datetime(2026, 4, 29, 15, tzinfo=UTC), datetime(2026, 4, 30, 15, tzinfo=UTC)),
        # spring forward: a 23-hour day
        (date(2026, 3, 8), "America/New_York", datetime(2026, 3, 8, 5, tzinfo=UTC), datetime(2026, 3, 9, 4, tzinfo=UTC)),
        # fall back: a 25-hour day
        (date(2026, 11, 1), "America/New_York", datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 2, 5, tzinfo=UTC)),
        (date(2026, 3, 29), "Europe/Paris", datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 29, 22, tzinfo=UTC)),
    ],
)
def test_day_window_is_local_midnight_to_midnight(day, tz, start_utc, end_utc):
    start, end = day_window(day, tz)
    assert (start, end) == (start_utc, end_utc)
    assert start.tzinfo is not None and str(start.tzinfo) == tz


@pytest.mark.parametrize("name", sorted(EXPECTED_COLUMNS))
def test_extract_yields_contract_columns_and_types(con, warehouse, name):
    start, end = day_window(DAYS[1], "UTC")
    rows = extract_window(con, warehouse, name, start, end, name)
    assert rows == _warehouse_count(warehouse, name, start, end) > 0
    columns = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {name})").fetchall())
    assert columns == EXPECTED_COLUMNS[name]


def test_the_two_extracts_union_by_name(con, warehouse):
    """The pipeline stacks orders and events with UNION ALL BY NAME: shared columns share types."""
    start, end = day_window(DAYS[1], "UTC")
    counts = [extract_window(con, warehouse, name, start, end, name) for name in ("extract_orders", "extract_events")]
    shared = set(EXPECTED_COLUMNS["extract_orders"]) & set(EXPECTED_COLUMNS["extract_events"])
    assert all(EXPECTED_COLUMNS["extract_orders"][c] == EXPECTED_COLUMNS["extract_events"][c] for c in shared)
    union = con.execute(
        "SELECT count(*) FROM (SELECT * FROM extract_orders UNION ALL BY NAME SELECT * FROM extract_events)"
    ).fetchone()[0]
    assert union == sum(counts)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_consecutive_windows_split_the_rows_without_overlap(con, warehouse, name):
    """Each row lands in exactly one day, including the events at exactly midnight."""
    seen = []
    for day in DAYS:
        start, end = day_window(day, "UTC")
        extract_window(con, warehouse, name, start, end, "rows")
        times = con.execute("SELECT min(event_time), max(event_time) FROM rows").fetchone()
        assert start <= times[0] and times[1] < end
        seen += con.execute("SELECT event_id, event_time FROM rows").fetchall()
    everything = _warehouse_count(warehouse, name, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    assert len(seen) == everything
    assert len(set(seen)) == len(seen) - _exact_duplicates(warehouse, name)


def _exact_duplicates(path, name):
    table, column = SOURCES[name]
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            f"SELECT count(*) - count(DISTINCT (event_id, {column})) FROM {table}"
            if table == "events" else "SELECT 0"
        ).fetchone()[0]


def test_window_includes_its_start_and_excludes_its_end(con, warehouse):
    """The sample has an event at exactly midnight each day: it belongs to the day it starts."""
    midnight = datetime(2026, 4, 30, tzinfo=UTC)
    extract_window(con, warehouse, "extract_events", midnight, midnight + timedelta(hours=1), "starts")
    extract_window(con, warehouse, "extract_events", midnight - timedelta(hours=1), midnight, "ends")
    assert con.execute("SELECT min(event_time) FROM starts").fetchone()[0] == midnight
    assert con.execute("SELECT count(*) FROM ends WHERE event_time = $m", {"m": midnight}).fetchone()[0] == 0


def test_window_in_another_time_zone(con, warehouse):
    start, end = day_window(date(2026, 4, 30), "Asia/Tokyo")
    rows = extract_window(con, warehouse, "extract_events", start, end, "tokyo")
    assert rows == _warehouse_count(warehouse, "extract_events", start, end) > 0
    bounds = con.execute("SELECT min(event_time), max(event_time) FROM tokyo").fetchone()
    assert start <= bounds[0] and bounds[1] < end


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_re_extracting_a_window_replaces_the_table_with_the_same_rows(con, warehouse, name):
    start, end = day_window(DAYS[2], "UTC")
    first_count = extract_window(con, warehouse, name, start, end, "staged")
    first = con.execute("SELECT * FROM staged").fetchall()
    second_count = extract_window(con, warehouse, name, start, end, "staged")
    assert second_count == first_count == len(first)
    assert con.execute("SELECT * FROM staged").fetchall() == first


def test_orders_carry_their_lines_as_products_and_total_as_value(con, warehouse):
    start, end = day_window(DAYS[0], "UTC")
    extract_window(con, warehouse, "extract_orders", start, end, "orders")
    event_id, order_id, value, products = con.execute(
        "SELECT event_id, order_id, value, products FROM orders WHERE len(products) > 1 ORDER BY event_id LIMIT 1"
    ).fetchone()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        lines = connection.execute(
            """
            SELECT i.sku, i.unit_price, i.quantity, p.name, p.category, p.brand
            FROM order_items i JOIN products p USING (sku) WHERE order_id = $id ORDER BY line_number
            """,
            {"id": order_id},
        ).fetchall()
        total = connection.execute("SELECT total FROM orders WHERE order_id = $id", {"id": order_id}).fetchone()[0]
    assert event_id == order_id
    assert value == total and isinstance(value, Decimal)
    assert [tuple(product.values()) for product in products] == lines


def test_ldp_flag_becomes_opt_out_type_ldp(con, warehouse):
    start, end = day_window(DAYS[1], "UTC")
    extract_window(con, warehouse, "extract_events", start, end, "events")
    counts = con.execute(
        """
        SELECT count(*) FILTER (WHERE coalesce(e.opt_out_type = 'LDP', false) <> coalesce(c.ccpa_do_not_sell, false)),
               count(*) FILTER (WHERE e.opt_out_type = 'LDP')
        FROM events e LEFT JOIN warehouse.customers c ON c.customer_key = e.external_id
        """
    ).fetchone()
    assert counts[0] == 0 and counts[1] > 0


def test_the_warehouse_is_attached_read_only(con, warehouse):
    before = warehouse.read_bytes()
    start, end = day_window(DAYS[0], "UTC")
    extract_window(con, warehouse, "extract_orders", start, end, "orders")
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("DELETE FROM warehouse.orders")
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("CREATE TABLE warehouse.scratch (x INTEGER)")
    assert warehouse.read_bytes() == before


def test_a_writable_or_different_warehouse_attachment_is_replaced(con, warehouse, tmp_path):
    other = tmp_path / "other.duckdb"
    generate_sample_warehouse(other, days=1, rows_per_day=100, seed=3, end=END)
    con.execute("ATTACH $path AS warehouse", {"path": str(warehouse)})  # read-write, as a user might
    start, end = day_window(DAYS[2], "UTC")

    extract_window(con, warehouse, "extract_orders", start, end, "orders")
    assert con.execute("SELECT readonly FROM duckdb_databases() WHERE database_name = 'warehouse'").fetchone() == (True,)

    rows = extract_window(con, other, "extract_orders", start, end, "orders")
    assert rows == _warehouse_count(other, "extract_orders", start, end) == 10
    attached = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'warehouse'").fetchone()[0]
    assert attached == str(other)


def test_missing_warehouse_is_named_in_the_error(con, tmp_path):
    start, end = day_window(DAYS[0], "UTC")
    missing = tmp_path / "nowhere.duckdb"
    with pytest.raises(InputError, match="nowhere.duckdb does not exist"):
        extract_window(con, missing, "extract_orders", start, end, "orders")
    assert not missing.exists()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime(2026, 4, 30), datetime(2026, 5, 1), "timezone-aware"),
        (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC), "empty window"),
    ],
)
def test_bad_windows_are_refused(con, warehouse, start, end, message):
    with pytest.raises(ValueError, match=message):
        extract_window(con, warehouse, "extract_orders", start, end, "orders")
