"""The sample warehouse: deterministic, shaped as documented, and as messy as real warehouses are.

The messiness is the point: each kind of dirty value below is one the normalizer must handle, so the
demo, the tests and the benchmarks exercise it. Counts are checked as "present" (and, for the kinds
that would hide in a small share of rows, at least a handful), not as exact figures, because they are
draws; the exact figures are checked where they are fixed by construction.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone

import duckdb
import pytest

from pinterest_pipeline.cli import main
from pinterest_pipeline.sample.vocabulary import EMAIL_DOMAINS, EMAIL_HANDLES
from pinterest_pipeline.sample.warehouse import generate_sample_warehouse

END = date(2026, 5, 1)
DAYS = 2
ROWS_PER_DAY = 20_000
TABLES = ("products", "customers", "orders", "order_items", "events")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("warehouse") / "shop.duckdb"
    summary = generate_sample_warehouse(path, days=DAYS, rows_per_day=ROWS_PER_DAY, seed=0, end=END)
    return summary


@pytest.fixture(scope="module")
def con(warehouse):
    connection = duckdb.connect(str(warehouse.path), read_only=True)
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


def _rows(path, table):
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(f"SELECT * FROM {table}").fetchall()


def test_same_seed_gives_identical_tables_and_another_seed_does_not(warehouse, tmp_path):
    again = generate_sample_warehouse(tmp_path / "again.duckdb", days=DAYS, rows_per_day=ROWS_PER_DAY, seed=0, end=END)
    other = generate_sample_warehouse(tmp_path / "other.duckdb", days=DAYS, rows_per_day=ROWS_PER_DAY, seed=1, end=END)
    for table in TABLES:
        assert _rows(again.path, table) == _rows(warehouse.path, table), table
    for table in ("customers", "orders", "order_items", "events"):
        assert _rows(other.path, table) != _rows(warehouse.path, table), table


def test_summary_matches_the_file_and_the_requested_days(warehouse, con):
    assert warehouse.first_day == date(2026, 4, 29)
    assert warehouse.last_day == date(2026, 4, 30)
    for table in TABLES:
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == warehouse.tables[table]
    # A tenth of each day's rows are orders, the rest events; one customer per five rows of a day.
    assert warehouse.tables["orders"] == DAYS * 2_000
    assert warehouse.tables["events"] == DAYS * 18_000
    assert warehouse.tables["customers"] == 4_000
    assert warehouse.conversion_rows == DAYS * ROWS_PER_DAY


@pytest.mark.parametrize(
    ("table", "time_column", "per_day"), [("events", "occurred_at", 18_000), ("orders", "placed_at", 2_000)]
)
def test_rows_fall_evenly_in_the_whole_utc_days_before_end(con, table, time_column, per_day):
    counts = con.execute(
        f"SELECT {time_column}::DATE AS day, count(*) FROM {table} GROUP BY day ORDER BY day"
    ).fetchall()
    # Retried events are two seconds after the original, so a handful can cross midnight.
    assert [day for day, _ in counts] == [date(2026, 4, 29), date(2026, 4, 30)]
    assert all(abs(count - per_day) <= 2 for _, count in counts)


def test_each_day_starts_with_an_event_exactly_at_midnight(con):
    midnights = con.execute(
        "SELECT occurred_at FROM events WHERE occurred_at = date_trunc('day', occurred_at) ORDER BY 1"
    ).fetchall()
    assert [row[0] for row in midnights] == [
        datetime(2026, 4, 29, tzinfo=timezone.utc), datetime(2026, 4, 30, tzinfo=timezone.utc)
    ]


@pytest.mark.parametrize(
    ("kind", "table", "predicate", "at_least"),
    [
        ("mixed-case email", "customers", "email <> lower(email) AND NOT regexp_full_match(email, '[0-9A-F]{64}')", 100),
        ("email with stray spaces", "customers", "email <> trim(email)", 100),
        ("pre-hashed email, upper-case SHA-256 hex", "customers", "regexp_full_match(email, '[0-9A-F]{64}')", 100),
        ("email with Turkish capital dotted İ", "customers", "email LIKE '%İ%'", 50),
        ("junk email", "customers", "email IN ('N/A', '', 'null', '-')", 50),
        ("missing email", "customers", "email IS NULL", 100),
        ("name with Turkish İ", "customers", "first_name LIKE '%İ%' OR last_name LIKE '%İ%'", 50),
        ("Greek name ending in capital sigma", "customers", "first_name LIKE '%Σ'", 50),
        ("decomposed accent (not NFC)", "customers", "first_name <> nfc_normalize(first_name)", 50),
        ("padded name", "customers", "first_name <> trim(first_name) OR last_name <> trim(last_name)", 50),
        ("national phone", "customers", "regexp_full_match(phone, '[1-9(][0-9 ().-]{8,}')", 100),
        ("phone with leading trunk 0", "customers", "regexp_full_match(phone, '0[1-9][0-9 .-]{7,}')", 100),
        ("international phone with +", "customers", "phone LIKE '+%' AND phone NOT LIKE '%(0)%'", 100),
        ("international phone with +NN (0)", "customers", "phone LIKE '+% (0)%'", 20),
        ("international phone with 00", "customers", "phone LIKE '00%'", 50),
        ("phone too short to be a number", "customers", "regexp_full_match(phone, '[0-9]{5}')", 20),
        ("phone that is no number", "customers", "phone = 'N/A'", 20),
        ("ZIP+4 with dash", "customers", "regexp_full_match(zip, '[0-9]{5}-[0-9]{4}')", 50),
        ("ZIP+4 as 9 digits", "customers", "regexp_full_match(zip, '[0-9]{9}')", 50),
        ("US ZIP that lost its leading zero", "customers", "regexp_full_match(zip, '[0-9]{4}') AND city = 'Boston'", 1),
        ("UK postcode", "customers", "regexp_full_match(upper(trim(zip)), '[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}')", 50),
        ("country as alpha-2 code", "customers", "country IN ('US', 'GB', 'FR', 'DE', 'CA', 'TR', 'GR', 'IT')", 500),
        ("country as lower-case code", "customers", "country IN ('us', 'fr', 'uk')", 50),
        ("country as name", "customers", "country IN ('United States', 'United Kingdom', 'France', 'Germany', 'Türkiye', 'Greece')", 100),
        ("country unknown", "customers", "country IS NULL", 50),
        ("state as a name", "customers", "state IN ('California', 'New York', 'Ontario')", 50),
        ("Californian who opted out of sale (LDP)", "customers", "ccpa_do_not_sell AND upper(state) IN ('CA', 'CALIFORNIA') AND country IS DISTINCT FROM 'CA'", 50),
        ("LDP flag outside California", "customers", "ccpa_do_not_sell AND city NOT IN ('San Francisco', 'Los Angeles', 'San Diego')", 5),
        ("birthday as YYYY-MM-DD", "customers", "regexp_full_match(birthday, '[0-9]{4}-[0-9]{2}-[0-9]{2}')", 500),
        ("birthday as YYYYMMDD", "customers", "regexp_full_match(birthday, '[0-9]{8}')", 100),
        ("birthday with a time", "customers", "birthday LIKE '% 00:00:00'", 50),
        ("birthday in US notation", "customers", "birthday LIKE '%/%/%'", 50),
        ("impossible birthday", "customers", "birthday LIKE '%-02-30'", 20),
        ("gender spelled out", "customers", "gender IN ('female', 'Female', 'woman', 'male', 'MALE', 'man')", 500),
        ("non-binary gender spelled out", "customers", "gender IN ('non-binary', 'nonbinary', 'Non Binary', 'n')", 50),
        ("upper-case mobile ad id (IDFA)", "customers", "mobile_ad_id = upper(mobile_ad_id)", 100),
        ("lower-case mobile ad id (GAID)", "customers", "mobile_ad_id = lower(mobile_ad_id)", 100),
        ("guest order without customer", "orders", "customer_id IS NULL", 50),
        ("order without currency", "orders", "currency IS NULL", 50),
        ("order with an invalid currency", "orders", "currency IN ('US$', 'EURO')", 20),
        ("order with a lower-case currency", "orders", "currency = lower(currency)", 20),
        ("order from an invalid channel", "orders", "channel = 'pos'", 20),
        ("order without channel", "orders", "channel IS NULL", 50),
        ("order line without quantity", "order_items", "quantity IS NULL", 20),
        ("event without id", "events", "event_id IS NULL", 20),
        ("event from an invalid channel", "events", "channel IN ('kiosk', 'email')", 100),
        ("event channel in odd case or padded", "events", "channel IN ('Web', ' web ')", 100),
        ("event without channel", "events", "channel IS NULL", 100),
        ("Pinterest click id in the URL", "events", "page_url LIKE '%epik=%'", 1000),
        ("locale with underscore", "events", "locale IN ('en_US', 'fr_FR')", 1000),
        ("language given as a name", "events", "locale IN ('english', 'eng')", 100),
        ("IPv6 address", "events", "ip LIKE '%:%'", 500),
        ("app event with device fields", "events", "app_id IS NOT NULL AND device_model IS NOT NULL", 1000),
        ("app user who limited ad tracking", "events", "NOT ad_tracking_enabled", 500),
        ("anonymous event", "events", "user_id IS NULL", 1000),
        ("anonymous event without IP", "events", "user_id IS NULL AND ip IS NULL", 100),
    ],
)
def test_messy_values_of_each_kind_are_present(con, kind, table, predicate, at_least):
    count = con.execute(f"SELECT count(*) FROM {table} WHERE {predicate}").fetchone()[0]
    assert count >= at_least, f"{kind}: {count} rows"


def test_prehashed_emails_are_the_sha256_of_a_normalized_address(con):
    """A pre-hashed email is what a partner would send: the hash of the trimmed, lower-case address."""
    rows = con.execute(
        "SELECT customer_id, email FROM customers WHERE regexp_full_match(email, '[0-9A-F]{64}') LIMIT 20"
    ).fetchall()
    for customer_id, prehashed in rows:
        addresses = [
            f"{handle}.{customer_id}@{domain}" for handle, _ in EMAIL_HANDLES for domain, _ in EMAIL_DOMAINS
        ]
        assert prehashed.lower() in {hashlib.sha256(a.encode()).hexdigest() for a in addresses}


def test_event_names_cover_the_sources_presets_and_unknown_names(con):
    names = {row[0] for row in con.execute("SELECT DISTINCT event_name FROM events").fetchall()}
    expected = {
        # Segment / RudderStack / Chord e-commerce spec
        "Product Added", "Products Searched", "Product List Filtered", "Signed Up", "Checkout Started",
        "Product Viewed", "Product Added to Wishlist", "Product Category Viewed", "Product Video Watched",
        "Generate Lead", "Page Viewed", "page", "Application Installed", "Application Opened", "Trial Started",
        # Commanders Act and GA4-style names
        "AddToCart", "add_to_cart", "generate_lead", "sign_up", "completeregistration", "view_item",
        "view_item_list", "begin_checkout", "purchase", "page_view", "contact", "search",
        # names no preset maps
        "Newsletter Opened", "Coupon Applied",
    }
    assert expected <= names


def test_duplicate_event_ids_are_retries_of_the_same_event(con):
    """Duplicated ids come from SDK retries: the same event again, two seconds later."""
    pairs = con.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE a.event_name = b.event_name
            AND a.user_id IS NOT DISTINCT FROM b.user_id AND a.page_url IS NOT DISTINCT FROM b.page_url
            AND b.occurred_at - a.occurred_at = INTERVAL 2 SECOND)
        FROM events a JOIN events b ON a.event_id = b.event_id AND a.occurred_at < b.occurred_at
        """
    ).fetchone()
    assert pairs[0] >= 20
    assert pairs[0] == pairs[1]


def test_order_totals_are_the_sum_of_their_lines(con):
    mismatched = con.execute(
        """
        SELECT count(*) FROM orders o
        JOIN (SELECT order_id, sum(unit_price * coalesce(quantity, 1)) AS lines_total
              FROM order_items GROUP BY order_id) l USING (order_id)
        WHERE o.total <> l.lines_total
        """
    ).fetchone()[0]
    orders_without_lines = con.execute(
        "SELECT count(*) FROM orders WHERE order_id NOT IN (SELECT order_id FROM order_items)"
    ).fetchone()[0]
    assert (mismatched, orders_without_lines) == (0, 0)


def test_an_existing_file_is_replaced_whole(tmp_path):
    path = tmp_path / "shop.duckdb"
    generate_sample_warehouse(path, days=1, rows_per_day=500, end=END)
    summary = generate_sample_warehouse(path, days=2, rows_per_day=100, end=END)
    assert summary.tables["events"] == 2 * 90
    assert _rows(path, "events") and len(_rows(path, "events")) == 180
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.duckdb"]


def test_cli_writes_a_warehouse_and_refuses_to_overwrite_without_force(tmp_path, capsys):
    path = tmp_path / "shop.duckdb"
    args = ["sample-warehouse", str(path), "--days", "3", "--rows-per-day", "100", "--end", "2026-05-01"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"wrote {path}: 2026-04-28 to 2026-04-30 (300 conversion rows)" in out
    before = path.read_bytes()

    assert main(args + ["--seed", "5"]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert path.read_bytes() == before

    assert main(args + ["--seed", "5", "--force"]) == 0
    assert _rows(path, "events") != []
    assert path.read_bytes() != before


@pytest.mark.parametrize("bad", [["--days", "0"], ["--rows-per-day", "-5"], ["--end", "2026-02-30"]])
def test_cli_rejects_bad_arguments(tmp_path, bad):
    with pytest.raises(SystemExit) as exit_info:
        main(["sample-warehouse", str(tmp_path / "x.duckdb"), *bad])
    assert exit_info.value.code == 2
    assert not (tmp_path / "x.duckdb").exists()
