"""Which ad account a row goes to (docs/accounts.md): its `ad_account_id` column, else the account
its `routing.column` value maps to; a row with neither is rejected `no_ad_account`. A source without
either carries no account at all (the golden SQL tests prove its SQL unchanged)."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinterest_pipeline.config import ConfigError, build_config
from pinterest_pipeline.transform import transform

NOW = datetime(2024, 6, 2, 12, 0, tzinfo=timezone.utc)
US, CA, OTHER = "549755885175", "549755885176", "123"
BY_COUNTRY = {"column": "country", "accounts": {"us": US, "CA": CA}}
BY_BRAND = {"column": "Brand", "accounts": {"acme": US}}
BASE = "'e1' AS event_id, 'checkout' AS event_name, TIMESTAMPTZ '2024-06-02 10:00:00+00' AS event_time, " \
    "'web' AS action_source, 'a@example.com' AS email"

NO_COLUMN_DETAIL = "ad_account_id is NULL, empty or not 1 to 18 digits"
NO_ROUTE_DETAIL = "the value of routing column 'country' is NULL or not one of routing.accounts"

# columns (SQL) added to the base row, routing -> the row's account, or ("no_ad_account", detail).
CASES = {
    "routing value maps": ("'us' AS country", BY_COUNTRY, US),
    "matched trimmed and case-insensitively": ("' Ca ' AS country", BY_COUNTRY, CA),
    "routing value maps to no account": ("'mx' AS country", BY_COUNTRY, ("no_ad_account", NO_ROUTE_DETAIL)),
    "routing value NULL": ("CAST(NULL AS VARCHAR) AS country", BY_COUNTRY, ("no_ad_account", NO_ROUTE_DETAIL)),
    "a routing column outside the contract": ("'ACME' AS brand", BY_BRAND, US),
    "ad_account_id column": (f"'{OTHER}' AS ad_account_id", None, OTHER),
    "ad_account_id as an integer": (f"{OTHER} AS ad_account_id", None, OTHER),
    "ad_account_id not digits": ("'act_1' AS ad_account_id", None, ("no_ad_account", NO_COLUMN_DETAIL)),
    "ad_account_id too long": ("'1234567890123456789' AS ad_account_id", None, ("no_ad_account", NO_COLUMN_DETAIL)),
    "ad_account_id empty": ("'  ' AS ad_account_id", None, ("no_ad_account", NO_COLUMN_DETAIL)),
    "ad_account_id wins over routing": (f"'{OTHER}' AS ad_account_id, 'us' AS country", BY_COUNTRY, OTHER),
    "routing when ad_account_id is NULL": ("CAST(NULL AS VARCHAR) AS ad_account_id, 'ca' AS country", BY_COUNTRY, CA),
    "neither": (
        "CAST(NULL AS VARCHAR) AS ad_account_id, 'mx' AS country",
        BY_COUNTRY,
        ("no_ad_account", f"{NO_COLUMN_DETAIL}, and {NO_ROUTE_DETAIL}"),
    ),
    "the earlier rules come first": (
        "'mx' AS country, CAST(NULL AS VARCHAR) AS email",
        BY_COUNTRY,
        (
            "missing_identifier",
            "user_data has no em, no hashed_maids and not both client_ip_address and client_user_agent",
        ),
    ),
}


@pytest.fixture(scope="module")
def con():
    with duckdb.connect() as connection:
        yield connection


def account_of(con, columns: str, routing: dict | None):
    # The case's columns first: a base column it repeats is renamed (email_1) and not read.
    con.execute(f"CREATE OR REPLACE TABLE src AS SELECT {columns}, {BASE}")
    transform(con, "src", build_config(routing=routing), now=NOW)
    events = con.execute("SELECT ad_account_id FROM pinterest_events").fetchall()
    rejects = con.execute("SELECT reason, detail FROM pinterest_rejects").fetchall()
    return events[0][0] if events else rejects[0]


@pytest.mark.parametrize(("columns", "routing", "expected"), CASES.values(), ids=CASES.keys())
def test_the_rows_ad_account(con, columns, routing, expected):
    assert account_of(con, columns, routing) == expected


def test_an_unrouted_source_has_no_account_column(con):
    con.execute(f"CREATE OR REPLACE TABLE src AS SELECT {BASE}, 'us' AS country")
    transform(con, "src", build_config(), now=NOW)
    assert "ad_account_id" not in con.table("pinterest_events").columns


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.text(alphabet="aAbB c", max_size=4) | st.none(), min_size=1, max_size=8),
    accounts=st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=3), st.from_regex(r"\d{1,18}", fullmatch=True),
                             min_size=1, max_size=4),
)
def test_routing_matches_the_reference(values, accounts):
    """The SQL picks, for every row, the account the Python reference does: the trimmed, lowercased
    value looked up in the map; an empty or missing value, or one not in it, rejects the row."""
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE src AS SELECT 'e' || i AS event_id, 'checkout' AS event_name, "
            "TIMESTAMPTZ '2024-06-02 10:00:00+00' AS event_time, 'web' AS action_source, "
            "'a@example.com' AS email, v AS brand FROM (SELECT unnest($values) AS v, generate_subscripts($values, 1) AS i)",
            {"values": values},
        )
        transform(con, "src", build_config(routing={"column": "brand", "accounts": accounts}), now=NOW)
        sent = dict(con.execute("SELECT source_row, ad_account_id FROM pinterest_events").fetchall())
        rejected = {row for (row,) in con.execute("SELECT source_row FROM pinterest_rejects").fetchall()}
    for row, value in enumerate(values, start=1):
        expected = accounts.get(value.strip().lower()) if value is not None and value.strip() else None
        if expected is None:
            assert row in rejected
        else:
            assert sent[row] == expected


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"column": "country", "accounts": {"us": "act_1"}},
         "invalid config key 'routing.accounts': 'us' maps to 'act_1'; an ad account id is 1 to 18 digits"),
        ({"column": "country", "accounts": {}},
         "invalid config key 'routing.accounts': must map at least one column value to an ad account id"),
        ({"column": " ", "accounts": {"us": US}}, "invalid config key 'routing.column': must name a source column"),
        ({"accounts": {"us": US}}, "invalid config key 'routing.column': Field required"),
        ({"column": "country", "accounts": {"us": US}, "default": US}, "invalid config key 'routing.default': unknown key"),
    ],
)
def test_routing_is_validated_at_load_naming_the_key(routing, message):
    with pytest.raises(ConfigError) as error:
        build_config(routing=routing)
    assert str(error.value) == message


def test_a_missing_routing_column_names_the_source_and_the_key(con):
    from pinterest_pipeline.errors import InputError

    con.execute(f"CREATE OR REPLACE TABLE src AS SELECT {BASE}")
    with pytest.raises(InputError, match=r"^src: routing column 'brand' \(config key routing.column\) is missing$"):
        transform(con, "src", build_config(routing={"column": "brand", "accounts": {"acme": US}}), now=NOW)
