"""Country and state normalizations looked up once per distinct value (docs/rules.md through
`transform`): the same state text means different subdivisions in different countries, the row's
country or the default decides, and rows keep their input order in the stored events."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import duckdb
import pytest

from pinterest_pipeline.config import build_config
from pinterest_pipeline.transform import transform

NOW = datetime(2024, 6, 2, 12, 0, tzinfo=timezone.utc)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# (state, country) of a row -> the user_data keys it gets besides `em`.
CASES = [
    (("CA", "US"), {"st": sha("ca"), "country": sha("us")}),
    (("California", "United States"), {"st": sha("ca"), "country": sha("us")}),
    ((" Ontario ", "CA"), {"st": sha("on"), "country": sha("ca")}),
    (("Ontario", "US"), {"st": sha("ontario"), "country": sha("us")}),
    (("Bayern", "Germany"), {"st": sha("by"), "country": sha("de")}),
    (("Bayern", None), {"st": sha("bayern")}),
    ((None, "DE"), {"country": sha("de")}),
    (("xx", "Atlantis"), {"st": sha("xx")}),
]


@pytest.fixture(scope="module")
def con():
    with duckdb.connect() as connection:
        yield connection


def transform_rows(con, rows: list[tuple[str | None, str | None]], **config) -> list[dict]:
    con.execute(
        "CREATE OR REPLACE TABLE src AS SELECT 'e' || i AS event_id, 'checkout' AS event_name, "
        "TIMESTAMPTZ '2024-06-02 10:00:00+00' AS event_time, 'web' AS action_source, "
        "'a@example.com' AS email, $states[i + 1] AS state, $countries[i + 1] AS country "
        "FROM range(len($states)) AS r(i) ORDER BY i",
        {"states": [state for state, _ in rows], "countries": [country for _, country in rows]},
    )
    transform(con, "src", build_config(**config), now=NOW)
    return [json.loads(text) for (text,) in con.execute("SELECT event_json FROM pinterest_events").fetchall()]


def test_each_row_gets_the_state_and_country_of_its_own_values(con, validate_events):
    events = transform_rows(con, [values for values, _ in CASES])
    validate_events(events)
    assert [event["event_id"] for event in events] == [f"e{i}" for i in range(len(CASES))]
    for event, (_, expected) in zip(events, CASES):
        assert event["user_data"] == {"em": [sha("a@example.com")], **{key: [value] for key, value in expected.items()}}


@pytest.mark.parametrize(
    ("default_country", "expected_st"), [(None, sha("bayern")), ("DE", sha("by")), ("US", sha("bayern"))]
)
def test_a_row_without_country_reads_its_state_in_the_default_country(con, default_country, expected_st):
    (event,) = transform_rows(con, [("Bayern", None)], default_country=default_country)
    assert event["user_data"]["st"] == [expected_st]


def test_large_input_is_stored_in_input_order(con):
    """Stored order is the order delivery and the NDJSON file use (read here without ORDER BY)."""
    con.execute(
        "CREATE OR REPLACE TABLE src AS SELECT 'e' || i AS event_id, 'checkout' AS event_name, "
        "TIMESTAMPTZ '2024-06-02 10:00:00+00' AS event_time, 'web' AS action_source, "
        "'u' || i || '@example.com' AS email, ['CA', 'NY', 'Bayern'][i % 3 + 1] AS state, "
        "['US', 'Germany', NULL][i % 3 + 1] AS country, 'x' || (i % 7) AS external_id FROM range(300000) AS r(i)"
    )
    result = transform(con, "src", build_config(), now=NOW)
    assert result.events == 300_000
    stored = [row for (row,) in con.execute("SELECT source_row FROM pinterest_events").fetchall()]
    assert stored == list(range(1, 300_001))


def test_a_source_whose_order_changes_between_reads_is_read_once(con):
    """The source is read once into the checked rows, which both passes use: a view that yields its
    rows in another order each time still gives every row exactly once, with its own identity."""
    con.execute(
        "CREATE OR REPLACE TABLE base AS SELECT 'e' || i AS event_id, 'checkout' AS event_name, "
        "TIMESTAMPTZ '2024-06-02 10:00:00+00' AS event_time, 'web' AS action_source, "
        "'u' || i || '@example.com' AS email FROM range(5000) AS r(i)"
    )
    con.execute("CREATE OR REPLACE VIEW shuffled AS SELECT * FROM base ORDER BY random()")
    result = transform(con, "shuffled", build_config(), now=NOW)
    assert result.events == 5000
    rows = con.execute("SELECT event_id, event_json FROM pinterest_events ORDER BY source_row").fetchall()
    assert sorted(event_id for event_id, _ in rows) == sorted(f"e{i}" for i in range(5000))
    for event_id, text in rows:
        assert json.loads(text)["user_data"]["em"] == [sha(f"u{event_id[1:]}@example.com")]
