"""`pinterest-pipeline transform`: real Parquet, CSV, NDJSON and DuckDB inputs, both
output files always written, options mapped to config, and bad inputs or config failing with one
line that names the problem, a non-zero exit code and no output written."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pinterest_pipeline.cli import main

NOW = "2024-06-02T12:00:00Z"

# Three rows: a checkout, a page view with a category, and a row without identity (rejected).
ROWS_SQL = """
SELECT * FROM (VALUES
    ('o-1', 'Order Completed', TIMESTAMPTZ '2024-06-02 10:00:00+00', 'web', 'Ann@Example.com', 25.0::DOUBLE, 'usd', NULL),
    ('p-2', 'page', TIMESTAMPTZ '2024-06-02 10:30:00+00', 'web', 'bob@example.com', NULL, NULL, 'shoes'),
    ('o-3', 'Order Completed', TIMESTAMPTZ '2024-06-02 11:00:00+00', 'web', NULL, 9.5::DOUBLE, 'EUR', NULL)
) AS t(event_id, event_name, event_time, action_source, email, value, currency, content_category)
"""

EXPECTED_EVENTS = [
    {
        "event_name": "checkout",
        "action_source": "web",
        "event_time": 1717322400,
        "event_id": "o-1",
        "user_data": {"em": [hashlib.sha256(b"ann@example.com").hexdigest()]},
        "custom_data": {"value": "25", "currency": "USD"},
    },
    {
        "event_name": "view_category",
        "action_source": "web",
        "event_time": 1717324200,
        "event_id": "p-2",
        "user_data": {"em": [hashlib.sha256(b"bob@example.com").hexdigest()]},
        "custom_data": {"content_category": "shoes"},
    },
]

FORMATS = {
    "events.parquet": "(FORMAT parquet)",
    "events.csv": "(FORMAT csv, HEADER true)",
    "events.ndjson": "(FORMAT json)",
}


def write_input(path: Path, sql: str = ROWS_SQL) -> Path:
    with duckdb.connect() as con:
        con.execute(f"COPY ({sql}) TO $path {FORMATS['events' + path.suffix]}", {"path": str(path)})
    return path


def read_ndjson(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def transform(tmp_path: Path, *args: str) -> int:
    return main(["transform", *args, "--out", str(tmp_path / "out.ndjson"),
                 "--rejected", str(tmp_path / "rejects.ndjson"), "--now", NOW])


@pytest.mark.parametrize("name", FORMATS)
def test_each_file_format(tmp_path, name, capsys, validate_events):
    source = write_input(tmp_path / name)
    assert transform(tmp_path, str(source)) == 0
    events = read_ndjson(tmp_path / "out.ndjson")
    validate_events(events)
    assert events == EXPECTED_EVENTS
    assert read_ndjson(tmp_path / "rejects.ndjson") == [
        {
            "event_id": "o-3",
            "source_key": "o-3",
            "reason": "missing_identifier",
            "detail": "user_data has no em, no hashed_maids and not both client_ip_address and client_user_agent",
            "source_row": 3,
            "partition_day": "2024-06-02",
        }
    ]
    assert capsys.readouterr().out.splitlines()[:2] == [
        "3 rows -> 2 events, 1 rejected",
        "rejected: missing_identifier 1",
    ]


def test_duckdb_table_input_and_empty_rejects_file(tmp_path, validate_events):
    database = tmp_path / "shop.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE TABLE conversions AS {ROWS_SQL} WHERE email IS NOT NULL")
    assert transform(tmp_path, f"{database}:conversions") == 0
    validate_events(read_ndjson(tmp_path / "out.ndjson"))
    assert read_ndjson(tmp_path / "out.ndjson") == EXPECTED_EVENTS
    assert (tmp_path / "rejects.ndjson").read_text() == ""


def test_all_rejected_still_writes_an_empty_events_file(tmp_path):
    source = write_input(tmp_path / "events.csv", f"{ROWS_SQL} WHERE email IS NULL")
    assert transform(tmp_path, str(source)) == 1  # every row rejected for one reason (test_nothing_ignored.py)
    assert (tmp_path / "out.ndjson").read_text() == ""
    assert [reject["reason"] for reject in read_ndjson(tmp_path / "rejects.ndjson")] == ["missing_identifier"]


OPTIONS_SQL = """
SELECT * FROM (VALUES
    ('a', 'Loyalty Joined', '2024-06-02 06:00:00', NULL, 'a@example.com', 5, NULL, '4155550100'),
    ('b', 'purchase', '2024-05-20 12:00:00', 'web', 'b@example.com', NULL, NULL, NULL)
) AS t(event_id, event_name, event_time, action_source, email, value, currency, phone)
"""


def test_options_map_to_config(tmp_path, validate_events):
    source = write_input(tmp_path / "events.csv", OPTIONS_SQL)
    code = transform(
        tmp_path, str(source),
        "--source-timezone", "America/New_York",
        "--default-action-source", "offline",
        "--default-country", "US",
        "--default-currency", "EUR",
        "--partner-name", "ss-acme",
        "--taxonomy", "commanders_act",
        "--max-event-age-days", "30",
        "--unknown-events", "custom",
    )
    assert code == 0
    events = read_ndjson(tmp_path / "out.ndjson")
    validate_events(events)
    sha = lambda text: hashlib.sha256(text.encode()).hexdigest()  # noqa: E731
    assert events == [
        {
            "event_name": "custom",
            "action_source": "offline",
            "event_time": 1717322400,  # 06:00 New York (EDT) = 10:00 UTC
            "event_id": "a",
            "partner_name": "ss-acme",
            "user_data": {"em": [sha("a@example.com")], "ph": [sha("14155550100")]},
            "custom_data": {"value": "5", "currency": "EUR"},
        },
        {
            "event_name": "checkout",
            "action_source": "web",
            "event_time": 1716220800,  # 2024-05-20 12:00 New York = 16:00 UTC, 13 days old
            "event_id": "b",
            "partner_name": "ss-acme",
            "user_data": {"em": [sha("b@example.com")]},
        },
    ]


def test_unknown_events_reject_and_default_age_limit(tmp_path):
    source = write_input(tmp_path / "events.csv", OPTIONS_SQL)
    assert transform(tmp_path, str(source), "--unknown-events", "reject") == 0
    assert [(r["event_id"], r["reason"]) for r in read_ndjson(tmp_path / "rejects.ndjson")] == [
        ("a", "unknown_event_name"),
        ("b", "too_old"),
    ]


def test_config_file_is_read(tmp_path):
    config = tmp_path / "pipeline.toml"
    config.write_text('default_action_source = "app_ios"\n[event_mapping]\n"Loyalty Joined" = "signup"\n')
    source = write_input(tmp_path / "events.csv", OPTIONS_SQL + " WHERE event_id = 'a'")
    assert transform(tmp_path, str(source), "--config", str(config)) == 0
    (event,) = read_ndjson(tmp_path / "out.ndjson")
    assert (event["event_name"], event["action_source"]) == ("signup", "app_ios")


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name -> (INPUT argument, fragment the one-line error must hold)."""
    not_parquet = tmp_path / "text.parquet"
    not_parquet.write_text("event_id,event_name\n1,checkout\n")
    truncated = tmp_path / "broken.ndjson"
    truncated.write_text('{"event_id": "1", "event_name": "checkout"}\n{"event_id": ')
    no_time = write_input(tmp_path / "events.csv", "SELECT 'e1' AS event_id, 'lead' AS event_name, 'a@b.c' AS email")
    boolean_time = tmp_path / "events.parquet"
    write_input(boolean_time, "SELECT 'e1' AS event_id, 'lead' AS event_name, true AS event_time, 'a@b.c' AS email")
    no_identity = tmp_path / "events.ndjson"
    write_input(no_identity, "SELECT 'e1' AS event_id, 'lead' AS event_name, 1717322400 AS event_time")
    other = tmp_path / "events.xlsx"
    other.write_text("x")
    return {
        "missing file": (str(tmp_path / "nope.csv"), "nope.csv: no such file"),
        "not the format of its extension": (str(not_parquet), "text.parquet: not a readable Parquet file"),
        "malformed NDJSON": (str(truncated), "broken.ndjson: not a readable NDJSON file"),
        "required column missing": (str(no_time), "events.csv: required column 'event_time' is missing"),
        "unusable column type": (str(boolean_time), "events.parquet: column 'event_time' has type BOOLEAN"),
        "no identity column": (str(no_identity), "events.ndjson: no identity column"),
        "unknown extension": (str(other), "events.xlsx: unknown file type .xlsx"),
        "missing DuckDB table": (f"{tmp_path / 'w.duckdb'}:orders", "w.duckdb: no such file"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing file", "not the format of its extension", "malformed NDJSON", "required column missing",
     "unusable column type", "no identity column", "unknown extension", "missing DuckDB table"],
)
def test_bad_input_fails_with_one_line_and_writes_nothing(tmp_path, case, capsys):
    argument, message = _bad_inputs(tmp_path)[case]
    (tmp_path / "out.ndjson").write_text("previous run\n")
    assert transform(tmp_path, argument) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert (tmp_path / "out.ndjson").read_text() == "previous run\n"
    assert not (tmp_path / "rejects.ndjson").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--partner-name", "Acme"], "invalid config key 'partner_name'"),
        (["--unknown-events", "drop"], "invalid config key 'unknown_events'"),
        (["--source-timezone", "Mars/Olympus"], "invalid config key 'source_timezone'"),
        (["--default-currency", "dollars"], "invalid config key 'default_currency'"),
        (["--config", "missing.toml"], "config file missing.toml does not exist"),
    ],
)
def test_bad_config_fails_with_one_line(tmp_path, args, message, capsys):
    source = write_input(tmp_path / "events.csv")
    assert transform(tmp_path, str(source), *args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out.ndjson").exists()


def test_input_or_warehouse_is_required(tmp_path, capsys):
    assert main(["transform", "--out", str(tmp_path / "o"), "--rejected", str(tmp_path / "r")]) == 2
    assert "give either INPUT or --warehouse" in capsys.readouterr().err


def test_warehouse_day(tmp_path, capsys, validate_events):
    from pinterest_pipeline.sample.warehouse import generate_sample_warehouse

    warehouse = tmp_path / "shop.duckdb"
    generate_sample_warehouse(warehouse, days=2, rows_per_day=60, end=date(2024, 6, 3))
    code = transform(tmp_path, "--warehouse", str(warehouse), "--day", "2024-06-02", "--default-action-source", "web")
    assert code == 0
    events = read_ndjson(tmp_path / "out.ndjson")
    rejects = read_ndjson(tmp_path / "rejects.ndjson")
    validate_events(events)
    assert capsys.readouterr().out.startswith(f"60 rows -> {len(events)} events, {len(rejects)} rejected")
    assert {event["event_time"] // 86400 for event in events} == {date(2024, 6, 2).toordinal() - date(1970, 1, 1).toordinal()}


@pytest.mark.parametrize("name", FORMATS)
def test_duplicates_are_left_out_of_the_events_file_in_every_batch(tmp_path, name, monkeypatch):
    """The events file is streamed in batches and the in-run duplicates are dropped on the way:
    with batches of 7 rows, every batch holds some, and the file keeps each first row, in order,
    whether the input is placed by its Parquet row numbers or copied (CSV, NDJSON)."""
    from pinterest_pipeline.transform import ndjson_output

    monkeypatch.setattr(ndjson_output, "BATCH_ROWS", 7)
    rows = (
        "SELECT 'e' || (i % 40) AS event_id, 'Order Completed' AS event_name, "
        "TIMESTAMPTZ '2024-06-02 10:00:00+00' AS event_time, 'web' AS action_source, "
        "'u' || i || '@example.com' AS email FROM range(100) AS r(i) ORDER BY i"
    )
    source = write_input(tmp_path / name, rows)
    assert transform(tmp_path, str(source)) == 0
    events = read_ndjson(tmp_path / "out.ndjson")
    assert [event["event_id"] for event in events] == [f"e{i}" for i in range(40)]
    assert [event["user_data"]["em"] for event in events] == [
        [hashlib.sha256(f"u{i}@example.com".encode()).hexdigest()] for i in range(40)
    ]
    rejects = read_ndjson(tmp_path / "rejects.ndjson")
    assert [(r["source_row"], r["reason"], r["detail"]) for r in rejects] == [
        (i + 1, "duplicate_in_run", f"same event_id and event_name as row {i % 40 + 1}") for i in range(40, 100)
    ]


def test_transform_imports_no_http_stack(tmp_path):
    # A transform's start-up is part of its throughput: only the command being run is imported.
    source = write_input(tmp_path / "events.parquet")
    script = (
        "import sys\n"
        "from pinterest_pipeline.cli import main\n"
        f"code = main(['transform', {str(source)!r}, '--out', {str(tmp_path / 'e.ndjson')!r}, "
        f"'--rejected', {str(tmp_path / 'r.ndjson')!r}, '--now', {NOW!r}])\n"
        "print(sorted(name for name in ('httpx', 'aiohttp', 'pinterest_pipeline.delivery') if name in sys.modules))\n"
        "sys.exit(code)\n"
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert finished.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("argv", [["--help"], ["fake_api"], ["bogus"]])
def test_help_and_unknown_commands_list_every_command(argv, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    output = capsys.readouterr()
    listed = output.out + output.err
    for command in ("demo", "transform", "send", "status", "fake-api", "sample-warehouse"):
        assert command in listed
