"""Event-level rules (docs/rules.md), one table row per rule: a source row (column -> SQL literal,
so each case states the exact DuckDB type) -> the exact event JSON, or the exact reject reason.

Expected hashes are computed here with hashlib from the normalized plaintext. Every event a case
produces is also validated against Pinterest's official request schema.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pinterest_pipeline.config import build_config
from pinterest_pipeline.transform import transform

NOW = datetime(2024, 6, 2, 12, 0, tzinfo=timezone.utc)
EVENT_TIME = 1717322400  # 2024-06-02T10:00:00Z, two hours before NOW

BASE_ROW = {
    "event_id": "'e1'",
    "event_name": "'checkout'",
    "event_time": "TIMESTAMPTZ '2024-06-02 10:00:00+00'",
    "action_source": "'web'",
    "email": "'a@example.com'",
}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def event(user_data: dict | None = None, custom_data: dict | None = None, **top) -> dict:
    """The base row's event with `top` keys replaced or added (None removes a key)."""
    result = {
        "event_name": "checkout",
        "action_source": "web",
        "event_time": EVENT_TIME,
        "event_id": "e1",
        "user_data": {"em": [sha("a@example.com")]} if user_data is None else user_data,
    }
    if custom_data:
        result["custom_data"] = custom_data
    result.update(top)
    return {key: value for key, value in result.items() if value is not None}


@pytest.fixture(scope="module")
def con():
    # One connection for the module: the macros are installed once, each case replaces `src`.
    with duckdb.connect() as connection:
        yield connection


def run(con, rows: list[dict[str, str]], now: datetime = NOW, **config):
    """Transform `rows` (each a mapping column -> SQL literal); return (events, rejects, result)."""
    selects = [
        "SELECT " + ", ".join(f"{literal} AS {column}" for column, literal in row.items()) for row in rows
    ]
    con.execute("CREATE OR REPLACE TABLE src AS " + " UNION ALL BY NAME ".join(selects))
    result = transform(con, "src", build_config(**config), now=now)
    events = [json.loads(text) for (text,) in con.execute("SELECT event_json FROM pinterest_events ORDER BY source_row").fetchall()]
    rejects = con.execute("SELECT source_row, event_id, source_key, reason FROM pinterest_rejects ORDER BY source_row").fetchall()
    return events, rejects, result


def row(**changes: str | None) -> dict[str, str]:
    """The base row with columns changed (None drops the column)."""
    merged = {**BASE_ROW, **changes}
    return {column: literal for column, literal in merged.items() if literal is not None}


def check_single(con, source_row, expected, validate_events, *, warnings=None, now=NOW, **config):
    events, rejects, result = run(con, [source_row], now=now, **config)
    validate_events(events)
    if isinstance(expected, str):
        assert events == []
        assert [reject[3] for reject in rejects] == [expected]
    else:
        assert rejects == []
        assert events == [expected]
    assert result.warnings == (warnings or {})
    assert result.rows_in == 1


IDENTIFIER_CASES = {
    "email alone": (row(), event()),
    "maid alone": (
        row(email=None, maid="'AB-12'"),
        event(user_data={"hashed_maids": [sha("ab-12")]}),
    ),
    "ip and user agent": (
        row(email=None, client_ip_address="'203.0.113.9'", client_user_agent="'Mozilla/5.0'"),
        event(user_data={"client_ip_address": "203.0.113.9", "client_user_agent": "Mozilla/5.0"}),
    ),
    "ip without user agent": (
        row(email="NULL::VARCHAR", client_ip_address="'203.0.113.9'"),
        "missing_identifier",
    ),
    "blank email": (row(email="'   '", client_ip_address="'203.0.113.9'"), "missing_identifier"),
    "hashed email passes through lowercased": (
        row(email=f"'{sha('a@example.com').upper()}'"),
        event(),
    ),
}


@pytest.mark.parametrize(("source_row", "expected"), IDENTIFIER_CASES.values(), ids=IDENTIFIER_CASES.keys())
def test_identifier_rule(con, source_row, expected, validate_events):
    check_single(con, source_row, expected, validate_events)


NEW_YORK = ZoneInfo("America/New_York")
FALL_BACK_NOW = datetime(2024, 11, 4, tzinfo=timezone.utc)
SPRING_FORWARD_NOW = datetime(2024, 3, 11, tzinfo=timezone.utc)

EVENT_TIME_CASES = {
    "timestamptz": ("TIMESTAMPTZ '2024-06-02 12:00:00+02'", {}, NOW, EVENT_TIME),
    "timestamptz truncated": ("TIMESTAMPTZ '2024-06-02 10:00:00.999+00'", {}, NOW, EVENT_TIME),
    "naive timestamp in UTC": ("TIMESTAMP '2024-06-02 10:00:00'", {}, NOW, EVENT_TIME),
    "naive timestamp in New York": (
        "TIMESTAMP '2024-06-02 06:00:00'", {"source_timezone": "America/New_York"}, NOW, EVENT_TIME,
    ),
    "DST overlap takes the earlier instant": (
        "TIMESTAMP '2024-11-03 01:30:00'",
        {"source_timezone": "America/New_York"},
        FALL_BACK_NOW,
        int(datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK, fold=0).timestamp()),
    ),
    "DST gap shifts forward": (
        "TIMESTAMP '2024-03-10 02:30:00'",
        {"source_timezone": "America/New_York"},
        SPRING_FORWARD_NOW,
        int(datetime(2024, 3, 10, 3, 30, tzinfo=NEW_YORK).timestamp()),
    ),
    "naive text in New York, overlap": (
        "'2024-11-03T01:59:59'",
        {"source_timezone": "America/New_York"},
        FALL_BACK_NOW,
        int(datetime(2024, 11, 3, 1, 59, 59, tzinfo=NEW_YORK, fold=0).timestamp()),
    ),
    "epoch seconds": ("1717322400::BIGINT", {}, NOW, EVENT_TIME),
    "epoch milliseconds": ("1717322400999::BIGINT", {}, NOW, EVENT_TIME),
    "epoch seconds as text": ("'1717322400'", {}, NOW, EVENT_TIME),
    "ISO-8601 Z": ("'2024-06-02T10:00:00Z'", {}, NOW, EVENT_TIME),
    "ISO-8601 offset": ("'2024-06-02T12:00:00+02:00'", {}, NOW, EVENT_TIME),
    "ISO-8601 naive": ("'2024-06-02 10:00:00'", {}, NOW, EVENT_TIME),
    "not a time": ("'yesterday'", {}, NOW, "invalid_event_time"),
    "NULL": ("NULL::TIMESTAMPTZ", {}, NOW, "invalid_event_time"),
    "microseconds are not an epoch we read": ("1717322400000000::BIGINT", {}, NOW, "invalid_event_time"),
    "older than max_event_age": ("TIMESTAMPTZ '2024-05-26 11:59:59+00'", {}, NOW, "too_old"),
    "exactly max_event_age old": ("TIMESTAMPTZ '2024-05-26 12:00:00+00'", {}, NOW, 1716724800),
    "raised max_event_age": ("TIMESTAMPTZ '2024-05-26 11:59:59+00'", {"max_event_age": "30d"}, NOW, 1716724799),
    "beyond max_future_skew": ("TIMESTAMPTZ '2024-06-02 12:05:01+00'", {}, NOW, "in_future"),
    "within max_future_skew": ("TIMESTAMPTZ '2024-06-02 12:05:00+00'", {}, NOW, 1717329900),
}


@pytest.mark.parametrize(
    ("literal", "config", "now", "expected"), EVENT_TIME_CASES.values(), ids=EVENT_TIME_CASES.keys()
)
def test_event_time(con, literal, config, now, expected, validate_events):
    expected_event = expected if isinstance(expected, str) else event(event_time=expected)
    check_single(con, row(event_time=literal), expected_event, validate_events, now=now, **config)


ROW_RULE_CASES = {
    # action_source
    "action_source trimmed and lowercased": (row(action_source="' WEB '"), {}, event()),
    "NULL action_source takes the configured default": (
        row(action_source="NULL::VARCHAR"), {"default_action_source": "offline"}, event(action_source="offline"),
    ),
    "NULL action_source without default": (row(action_source="NULL::VARCHAR"), {}, "missing_action_source"),
    "blank action_source without default": (row(action_source="''"), {}, "missing_action_source"),
    "absent action_source column": (row(action_source=None), {}, "missing_action_source"),
    "unknown action_source": (row(action_source="'email'"), {"default_action_source": "web"}, "invalid_action_source"),
    # event_id
    "integer event_id becomes text": (row(event_id="42::INTEGER"), {}, event(event_id="42")),
    "event_id trimmed": (row(event_id="'  e1 '"), {}, event()),
    "NULL event_id": (row(event_id="NULL::VARCHAR"), {}, "missing_event_id"),
    "empty event_id": (row(event_id="' '"), {}, "missing_event_id"),
    # event names
    "source name mapped": (row(event_name="'Order Completed'"), {}, event()),
    "separators and case ignored": (row(event_name="'Add To Cart'"), {}, event(event_name="add_to_cart")),
    "page view with category": (
        row(event_name="'page'", content_category="'shoes'"),
        {},
        event(event_name="view_category", custom_data={"content_category": "shoes"}),
    ),
    "page view without category": (row(event_name="'Page Viewed'"), {}, event(event_name="page_visit")),
    "unknown name sent as custom": (row(event_name="'Loyalty Joined'"), {}, event(event_name="custom")),
    "unknown name rejected by policy": (row(event_name="'Loyalty Joined'"), {"unknown_events": "reject"}, "unknown_event_name"),
    "user mapping": (
        row(event_name="'Loyalty Joined'"),
        {"unknown_events": "reject", "event_mapping": {"loyalty-joined": "signup"}},
        event(event_name="signup"),
    ),
    "user mapping overrides preset": (
        row(event_name="'purchase'"), {"event_mapping": {"Purchase": "lead"}}, event(event_name="lead"),
    ),
    "taxonomy preset": (row(event_name="'buy'"), {"taxonomy": "segment"}, event(event_name="custom")),
    "NULL event name": (row(event_name="NULL::VARCHAR"), {}, "missing_event_name"),
    "first failing rule wins": (row(event_id="NULL::VARCHAR", action_source="'email'"), {}, "missing_event_id"),
}


@pytest.mark.parametrize(("source_row", "config", "expected"), ROW_RULE_CASES.values(), ids=ROW_RULE_CASES.keys())
def test_row_rules(con, source_row, config, expected, validate_events):
    check_single(con, source_row, expected, validate_events, **config)


PRODUCTS = (
    "[{'product_id': 'p1', 'price': 14.99::DOUBLE, 'quantity': 3, 'name': 'Shirt', 'category': 'Tops', 'brand': 'Acme'},"
    " {'product_id': 'p2', 'price': 2000.0::DOUBLE, 'quantity': 2, 'name': NULL, 'category': NULL, 'brand': NULL}]"
)

PAYLOAD_CASES = {
    "DOUBLE value 2000.0": (row(value="2000.0::DOUBLE"), {}, {"value": "2000"}, {}),
    "DOUBLE value 27.50": (row(value="27.50::DOUBLE"), {}, {"value": "27.5"}, {}),
    "DOUBLE value never in exponent form": (row(value="1e21::DOUBLE"), {}, {"value": "1000000000000000000000"}, {}),
    "tiny DOUBLE value": (row(value="1e-7::DOUBLE"), {}, {"value": "0.0000001"}, {}),
    "DECIMAL value": (row(value="27.50::DECIMAL(10, 2)"), {}, {"value": "27.5"}, {}),
    "INTEGER value": (row(value="15::INTEGER"), {}, {"value": "15"}, {}),
    "numeric text value": (row(value="' 012.30 '"), {}, {"value": "12.3"}, {}),
    "non-numeric text value dropped": (row(value="'12,30 EUR'"), {}, None, {"value_not_numeric": 1}),
    "NaN value dropped": (row(value="'nan'::DOUBLE"), {}, None, {"value_not_numeric": 1}),
    "predicted_ltv": (row(predicted_ltv="2794.820::DECIMAL(10, 3)"), {}, {"predicted_ltv": "2794.82"}, {}),
    "currency uppercased": (row(value="5::INTEGER", currency="' usd '"), {}, {"value": "5", "currency": "USD"}, {}),
    "invalid currency dropped": (
        row(value="5::INTEGER", currency="'dollars'"), {"default_currency": "EUR"}, {"value": "5"}, {"currency_invalid": 1},
    ),
    "NULL currency takes the default": (
        row(value="5::INTEGER", currency="NULL::VARCHAR"), {"default_currency": "EUR"}, {"value": "5", "currency": "EUR"}, {},
    ),
    "no default currency without a value": (row(currency="NULL::VARCHAR"), {"default_currency": "EUR"}, None, {}),
    "order_id from an integer": (row(order_id="1001::BIGINT"), {}, {"order_id": "1001"}, {}),
    "text fields trimmed, blanks absent": (
        row(search_string="' red shoes '", content_name="''", content_brand="'Acme'"),
        {},
        {"search_string": "red shoes", "content_brand": "Acme"},
        {},
    ),
    "products": (
        row(products=PRODUCTS),
        {},
        {
            "content_ids": ["p1", "p2"],
            "contents": [
                {"id": "p1", "item_price": "14.99", "quantity": 3, "item_name": "Shirt", "item_category": "Tops", "item_brand": "Acme"},
                {"id": "p2", "item_price": "2000", "quantity": 2},
            ],
            "num_items": 5,
        },
        {},
    ),
    "explicit num_items wins": (
        row(products=PRODUCTS, num_items="1::INTEGER"),
        {},
        {
            "content_ids": ["p1", "p2"],
            "contents": [
                {"id": "p1", "item_price": "14.99", "quantity": 3, "item_name": "Shirt", "item_category": "Tops", "item_brand": "Acme"},
                {"id": "p2", "item_price": "2000", "quantity": 2},
            ],
            "num_items": 1,
        },
        {},
    ),
    "product without quantity counts nothing": (
        row(products="[{'product_id': 7, 'quantity': NULL}, {'product_id': 8, 'quantity': 2}]"),
        {},
        {"content_ids": ["7", "8"], "contents": [{"id": "7"}, {"id": "8", "quantity": 2}], "num_items": 2},
        {},
    ),
    "no product has a quantity: no num_items": (
        row(products="[{'product_id': 'p1', 'price': '9.90'}]"),
        {},
        {"content_ids": ["p1"], "contents": [{"id": "p1", "item_price": "9.9"}]},
        {},
    ),
    "empty products: no keys": (row(products="[]::STRUCT(product_id VARCHAR, quantity INTEGER)[]"), {}, None, {}),
    "products as JSON text": (
        row(products="""'[{"product_id": "p1", "price": 3.0, "quantity": 2}]'"""),
        {},
        {"content_ids": ["p1"], "contents": [{"id": "p1", "item_price": "3", "quantity": 2}], "num_items": 2},
        {},
    ),
    "LDP passed through": (
        row(opt_out_type="'LDP'", state="'CA'", country="'US'"),
        {},
        {"opt_out_type": "LDP"},
        {},
    ),
    "LDP without state warns": (row(opt_out_type="'LDP'", country="'US'"), {}, {"opt_out_type": "LDP"}, {"ldp_needs_st_and_country": 1}),
}


@pytest.mark.parametrize(
    ("source_row", "config", "custom_data", "warnings"), PAYLOAD_CASES.values(), ids=PAYLOAD_CASES.keys()
)
def test_custom_data(con, source_row, config, custom_data, warnings, validate_events):
    events, rejects, result = run(con, [source_row], **config)
    validate_events(events)
    assert rejects == []
    assert len(events) == 1
    assert events[0].get("custom_data") == custom_data
    assert result.warnings == warnings


def test_ldp_event_carries_hashed_state_and_country(con, validate_events):
    events, _, _ = run(con, [row(opt_out_type="'LDP'", state="'CA'", country="'US'")])
    validate_events(events)
    assert events[0]["user_data"] == {"em": [sha("a@example.com")], "st": [sha("ca")], "country": [sha("us")]}


TOP_LEVEL_CASES = {
    "language from a locale": (row(language="'en-US'"), {}, {"language": "en"}),
    "language with underscore": (row(language="'PT_br'"), {}, {"language": "pt"}),
    "language name is not mapped": (row(language="'english'"), {}, {}),
    "three-letter code is not ISO-639-1": (row(language="'eng'"), {}, {}),
    "partner_name from config": (row(), {"partner_name": "ss-acme"}, {"partner_name": "ss-acme"}),
    "opt_out and wifi booleans": (row(opt_out="TRUE", wifi="'false'"), {}, {"opt_out": True, "wifi": False}),
    "app and device fields": (
        row(app_id="429047995::BIGINT", app_name="'Shop'", app_version="'7.9'", device_brand="'Apple'",
            device_carrier="'T-Mobile'", device_model="'iPhone15,2'", device_type="'phone'", os_version="'17.4'"),
        {},
        {"app_id": "429047995", "app_name": "Shop", "app_version": "7.9", "device_brand": "Apple",
         "device_carrier": "T-Mobile", "device_model": "iPhone15,2", "device_type": "phone", "os_version": "17.4"},
    ),
    "event_source_url": (
        row(event_source_url="'https://shop.example/p/1'"), {}, {"event_source_url": "https://shop.example/p/1"},
    ),
}


@pytest.mark.parametrize(("source_row", "config", "added"), TOP_LEVEL_CASES.values(), ids=TOP_LEVEL_CASES.keys())
def test_top_level_fields(con, source_row, config, added, validate_events):
    check_single(con, source_row, event(**added), validate_events, **config)


USER_DATA_CASES = {
    "several emails: distinct hashes, first seen first": (
        row(email="['B@example.com', ' a@example.com', 'b@example.com ', NULL]"),
        {"em": [sha("b@example.com"), sha("a@example.com")]},
    ),
    "click_id from the epik URL parameter, URL-decoded": (
        row(event_source_url="'https://shop.example/p?utm=x&epik=dj0y%2BJnU9&x=1'"),
        {"em": [sha("a@example.com")], "click_id": "dj0y+JnU9"},
    ),
    "explicit click_id wins over the URL": (
        row(event_source_url="'https://shop.example/p?epik=from-url'", click_id="'from-column'"),
        {"em": [sha("a@example.com")], "click_id": "from-column"},
    ),
    "plain identity passed through trimmed": (
        row(client_ip_address="' 203.0.113.9 '", client_user_agent="'UA'", partner_id="'ramp-1'"),
        {"em": [sha("a@example.com")], "client_ip_address": "203.0.113.9", "client_user_agent": "UA", "partner_id": "ramp-1"},
    ),
    "names, city, external id": (
        row(first_name="' Anna '", last_name="'Smith'", city="'Menlo Park'", external_id="'Cust-1'"),
        {"em": [sha("a@example.com")], "ln": [sha("smith")], "fn": [sha("anna")], "ct": [sha("menlopark")],
         "external_id": [sha("Cust-1")]},
    ),
    "integer zip padded to five digits": (
        row(zip="2134::INTEGER", country="'US'"),
        {"em": [sha("a@example.com")], "zp": [sha("02134")], "country": [sha("us")]},
    ),
}


@pytest.mark.parametrize(("source_row", "user_data"), USER_DATA_CASES.values(), ids=USER_DATA_CASES.keys())
def test_user_data(con, source_row, user_data, validate_events):
    events, rejects, _ = run(con, [source_row])
    validate_events(events)
    assert rejects == []
    assert events[0]["user_data"] == user_data
    if "event_source_url" in source_row:
        assert events[0]["event_source_url"]


def test_duplicates_in_run_first_row_wins(con, validate_events):
    rows = [
        row(),  # 1: sent
        row(event_time="TIMESTAMPTZ '2024-06-02 11:00:00+00'"),  # 2: same id and name
        row(event_name="'Product Added'"),  # 3: same id, other name: sent
        row(event_id="'e2'", email="NULL::VARCHAR"),  # 4: rejected for itself
        row(event_id="'e2'"),  # 5: first sendable e2: sent
        row(event_id="'e1'", event_name="'Order Completed'"),  # 6: maps to checkout: duplicate of 1
    ]
    events, rejects, result = run(con, rows)
    validate_events(events)
    assert [(e["event_id"], e["event_name"], e["event_time"]) for e in events] == [
        ("e1", "checkout", EVENT_TIME),
        ("e1", "add_to_cart", EVENT_TIME),
        ("e2", "checkout", EVENT_TIME),
    ]
    assert rejects == [
        (2, "e1", "e1", "duplicate_in_run"),
        (4, "e2", "e2", "missing_identifier"),
        (6, "e1", "e1", "duplicate_in_run"),
    ]
    assert result.rejected == {"duplicate_in_run": 2, "missing_identifier": 1}
    assert (result.rows_in, result.events) == (6, 3)


def test_reject_without_event_id_is_keyed_by_row_and_every_row_is_accounted_for(con):
    rows = [row(), row(event_id="NULL::VARCHAR"), row(event_id="'e3'", event_time="'soon'")]
    con.execute("CREATE OR REPLACE TABLE src AS " + " UNION ALL ".join(
        "SELECT " + ", ".join(f"{literal} AS {column}" for column, literal in r.items()) for r in rows
    ))
    result = transform(con, "src", build_config(), now=NOW, events_table="ev", rejects_table="rj")
    assert con.execute("SELECT source_row, event_id, source_key, reason, partition_day FROM rj ORDER BY 1").fetchall() == [
        (2, None, "row 2", "missing_event_id", datetime(2024, 6, 2).date()),
        (3, "e3", "e3", "invalid_event_time", None),
    ]
    assert con.execute("SELECT source_row, partition_day, warnings FROM ev").fetchall() == [
        (1, datetime(2024, 6, 2).date(), None)
    ]
    (detail,) = con.execute("SELECT detail FROM rj WHERE source_row = 3").fetchone()
    assert "event_time" in detail
    assert (result.events_table, result.rejects_table, result.rows_in) == ("ev", "rj", 3)


def test_partition_day_is_the_local_date_in_the_partition_timezone(con):
    con.execute("CREATE OR REPLACE TABLE src AS SELECT 'e1' AS event_id, 'lead' AS event_name, "
                "TIMESTAMPTZ '2024-06-02 02:00:00+00' AS event_time, 'web' AS action_source, 'a@b.c' AS email")
    transform(con, "src", build_config(partition_timezone="America/New_York"), now=NOW)
    assert con.execute("SELECT partition_day FROM pinterest_events").fetchone() == (datetime(2024, 6, 1).date(),)


def test_never_null_keys_or_empty_objects(con, validate_events):
    sparse = row(value="NULL::DOUBLE", currency="NULL::VARCHAR", order_id="NULL::VARCHAR", language="NULL::VARCHAR",
                 first_name="NULL::VARCHAR", opt_out="NULL::BOOLEAN", products="NULL::STRUCT(product_id VARCHAR)[]")
    events, _, _ = run(con, [sparse])
    validate_events(events)
    assert events == [event()]




WARNING_CASES = {
    "national phone without any country": (
        row(phone="'(415) 555-0100'"), {}, {"em": [sha("a@example.com")]}, {"phone_without_country_code": 1},
    ),
    "national phone with default_country": (
        row(phone="'(415) 555-0100'"), {"default_country": "US"},
        {"em": [sha("a@example.com")], "ph": [sha("14155550100")]}, {},
    ),
    "phone too short": (row(phone="'+1 415'"), {}, {"em": [sha("a@example.com")]}, {"phone_invalid_length": 1}),
    "several phones, one without country": (
        row(phone="['4155550100', '+1 415 555 0100']"), {},
        {"em": [sha("a@example.com")], "ph": [sha("14155550100")]},
        {"phone_without_country_code": 1},
    ),
    "malformed US zip": (
        row(zip="'123456'", country="'US'"), {},
        {"em": [sha("a@example.com")], "country": [sha("us")]},
        {"zip_malformed": 1},
    ),
}


@pytest.mark.parametrize(
    ("source_row", "config", "user_data", "warnings"), WARNING_CASES.values(), ids=WARNING_CASES.keys()
)
def test_dropped_identity_counts_a_warning(con, source_row, config, user_data, warnings, validate_events):
    events, rejects, result = run(con, [source_row], **config)
    validate_events(events)
    assert rejects == []
    assert events[0]["user_data"] == user_data
    assert result.warnings == warnings
