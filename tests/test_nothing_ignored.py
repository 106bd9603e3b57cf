"""Nothing wrong is silently ignored (docs/rules.md, "Nothing ignored silently"): a source column
the contract does not read is listed with a did-you-mean hint, an unknown `PINTEREST_PIPELINE_*`
variable is a config error naming it, unmapped event names sent as `custom` are listed with their
counts, and an input whose every row is rejected for one reason fails the CLI with an example that
is never personal data."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb
import pytest

from pinterest_pipeline.cli import main
from pinterest_pipeline.config import ConfigError, build_config, load_config
from pinterest_pipeline.transform import transform
from pinterest_pipeline.transform.contract import did_you_mean, inspect_source

NOW = datetime(2024, 6, 2, 12, 0, tzinfo=timezone.utc)
REQUIRED = "'e1' AS event_id, 'checkout' AS event_name, TIMESTAMPTZ '2024-06-02 10:00:00+00' AS event_time"


@pytest.mark.parametrize(
    ("extra_columns", "ignored"),
    [
        ("'a@example.com' AS email", ()),
        ("'a@example.com' AS Email", ()),  # names match case-insensitively
        ("'a@example.com' AS email, 'a@example.com' AS email_address", ("email_address (did you mean email?)",)),
        ("'a@example.com' AS email, 'Ann' AS customer_first_name", ("customer_first_name (did you mean first_name?)",)),
        ("'a@example.com' AS emial, 'a@example.com' AS email", ("emial (did you mean email?)",)),
        ("'a@example.com' AS email, '1.2.3.4' AS ip_address", ("ip_address (did you mean client_ip_address?)",)),
        ("'a@example.com' AS email, 7 AS loyalty_points, 'x' AS ip", ("loyalty_points", "ip")),
        ("'a@example.com' AS email, 0 AS pp_source_position", ()),  # the pipeline's own column
        (
            "'a@example.com' AS email, [{'product_id': 'p', 'sku': 's', 'prize': 1.0}] AS products",
            ("products.sku", "products.prize (did you mean products.price?)"),
        ),
    ],
)
def test_columns_outside_the_contract_are_listed_with_a_hint(extra_columns, ignored):
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE src AS SELECT {REQUIRED}, {extra_columns}")
        assert inspect_source(con, "src").ignored == ignored


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("zip_code", "zip"), ("phone_number", "phone"), ("user_agent", "client_user_agent"), ("event_type", "event_time"),
     ("order_total", None), ("id", None)],
)
def test_did_you_mean(name, suggestion):
    from pinterest_pipeline.transform.contract import COLUMNS

    assert did_you_mean(name, list(COLUMNS)) == suggestion


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        (
            "PINTEREST_PIPELINE_DEFAULT_CONTRY",
            "unknown environment variable PINTEREST_PIPELINE_DEFAULT_CONTRY "
            "(did you mean PINTEREST_PIPELINE_DEFAULT_COUNTRY?)",
        ),
        (
            "PINTEREST_PIPELINE_COLOUR",
            "unknown environment variable PINTEREST_PIPELINE_COLOUR: not a config key, nor one of "
            "PINTEREST_PIPELINE_CACHE_DIR, PINTEREST_PIPELINE_CONFIG, PINTEREST_PIPELINE_DUCKDB_MEMORY_LIMIT, "
            "PINTEREST_PIPELINE_NOW, PINTEREST_PIPELINE_START_DATE",
        ),
        (
            "PINTEREST_PIPELINE_EVENT_MAPPING",
            "PINTEREST_PIPELINE_EVENT_MAPPING cannot be set by an environment variable: "
            "use an [event_mapping] table in the config file",
        ),
    ],
)
def test_an_unknown_pipeline_variable_is_a_config_error(monkeypatch, variable, message):
    monkeypatch.setenv(variable, "us")
    with pytest.raises(ConfigError) as error:
        load_config()
    assert str(error.value) == message


@pytest.mark.parametrize(
    "variable",
    ["PINTEREST_PIPELINE_CONFIG", "PINTEREST_PIPELINE_NOW", "PINTEREST_PIPELINE_START_DATE",
     "PINTEREST_PIPELINE_CACHE_DIR", "PINTEREST_PIPELINE_DUCKDB_MEMORY_LIMIT", "PINTEREST_PIPELINE_STATE",
     "PINTEREST_PIPELINE_PARTITION_TIMEZONE"],
)
def test_the_variables_the_cli_and_dagster_read_are_allowed(monkeypatch, variable):
    value = "UTC" if variable.endswith("TIMEZONE") else "x"
    monkeypatch.setenv(variable, value)
    load_config()


NAMES_SQL = """
SELECT * FROM (VALUES
    ('1', 'Loyalty Joined', 'web', 'a@example.com'),
    ('2', 'Loyalty Joined ', 'web', 'b@example.com'),
    ('3', 'Coupon Applied', 'web', 'c@example.com'),
    ('4', 'begin_checkout', 'web', 'd@example.com'),
    ('5', 'Order Completed', 'web', 'e@example.com'),
    ('6', 'Coupon Applied', 'pos', 'f@example.com'),
    ('7', 'Quote Requested', 'web', 'g@example.com')
) AS t(event_id, event_name, action_source, email)
"""


@pytest.mark.parametrize(
    ("config", "listed"),
    [
        # begin_checkout maps to custom on purpose; row 6 is rejected (invalid_action_source), not sent.
        ({}, {"Loyalty Joined": 2, "Coupon Applied": 1, "Quote Requested": 1}),
        ({"event_mapping": {"Quote Requested": "lead"}}, {"Loyalty Joined": 2, "Coupon Applied": 1}),
        ({"unknown_events": "reject"}, {}),
    ],
)
def test_unmapped_names_sent_as_custom_are_counted(config, listed):
    with duckdb.connect() as con:
        con.execute(
            f"CREATE TABLE src AS SELECT *, TIMESTAMPTZ '2024-06-02 10:00:00+00' AS event_time FROM ({NAMES_SQL})"
        )
        result = transform(con, "src", build_config(**config), now=NOW)
    assert result.custom_event_names == listed
    assert list(result.custom_event_names.values()) == sorted(listed.values(), reverse=True)


def run_cli(tmp_path, sql: str, *options: str) -> int:
    source = tmp_path / "in.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY ({sql}) TO $path (FORMAT parquet)", {"path": str(source)})
    return main(["transform", str(source), "--out", str(tmp_path / "out.ndjson"),
                 "--rejected", str(tmp_path / "rejects.ndjson"), "--now", "2024-06-02T12:00:00Z", *options])


def test_the_cli_lists_custom_names_and_ignored_columns(tmp_path, capsys):
    sql = f"SELECT *, '2024-06-02T10:00:00Z' AS event_time, 'x' AS email_address FROM ({NAMES_SQL})"
    assert run_cli(tmp_path, sql) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:-1] == [
        "7 rows -> 6 events, 1 rejected",
        "rejected: invalid_action_source 1",
        "sent as custom (no mapping): Loyalty Joined 2, Coupon Applied 1, Quote Requested 1",
        "ignored columns: email_address (did you mean email?)",
    ]


@pytest.mark.parametrize(
    ("rows_sql", "stderr"),
    [
        (
            "SELECT 'e1' AS event_id, 'checkout' AS event_name, '2024-06-31 10:00' AS event_time, 'web' AS action_source, "
            "'secret@example.com' AS email",
            "the only row was rejected as invalid_event_time (e.g. row 1: event_time '2024-06-31 10:00': "
            "event_time is not a timestamp, epoch seconds/milliseconds or ISO-8601 text)",
        ),
        (
            "SELECT 'e' || i AS event_id, 'checkout' AS event_name, '2024-06-02T10:00:00Z' AS event_time, "
            "'web' AS action_source, CAST(NULL AS VARCHAR) AS email, '10.0.0.' || i AS client_ip_address "
            "FROM range(3) AS t(i)",
            "all 3 rows were rejected as missing_identifier (e.g. row 1: user_data has no em, no hashed_maids and "
            "not both client_ip_address and client_user_agent)",
        ),
        (
            "SELECT 'e' || i AS event_id, 'checkout' AS event_name, '2024-06-02T10:00:00Z' AS event_time, "
            "'store' AS action_source, 'secret@example.com' AS email FROM range(2) AS t(i)",
            "all 2 rows were rejected as invalid_action_source (e.g. row 1: action_source \"store\" is not one of "
            "app_android, app_ios, web, offline)",
        ),
    ],
)
def test_a_whole_input_rejected_for_one_reason_fails_with_a_safe_example(tmp_path, capsys, rows_sql, stderr):
    assert run_cli(tmp_path, rows_sql) == 1
    captured = capsys.readouterr()
    assert captured.err == f"pinterest-pipeline transform: error: {tmp_path / 'in.parquet'}: {stderr}\n"
    assert "secret" not in captured.err and "10.0.0" not in captured.err
    assert (tmp_path / "out.ndjson").read_text() == ""  # both files are still written
    rows_in = int(captured.out.split()[0])  # the summary's first word: "3 rows -> 0 events, ..."
    assert len((tmp_path / "rejects.ndjson").read_text().splitlines()) == rows_in


@pytest.mark.parametrize(
    "rows_sql",
    [
        # Two reasons: part of the input is wrong, not the whole of it.
        "SELECT * FROM (VALUES ('e1', 'checkout', 'soon', 'web', 'a@example.com'), "
        "('e2', 'checkout', '2024-06-02T10:00:00Z', 'pos', 'b@example.com')) "
        "AS t(event_id, event_name, event_time, action_source, email)",
        # An empty input has nothing to reject.
        "SELECT 'e1' AS event_id, 'checkout' AS event_name, 'x' AS event_time, 'a@example.com' AS email LIMIT 0",
    ],
)
def test_mixed_reasons_or_an_empty_input_exit_zero(tmp_path, capsys, rows_sql):
    assert run_cli(tmp_path, rows_sql) == 0
    assert capsys.readouterr().err == ""
