"""Warehouses read through ADBC (docs/warehouses.md): a real PostgreSQL 15 and a SQLite file holding the
sample warehouse give byte-identical events and rejects to the DuckDB file; the warehouse is
never written; and every way the source can fail stops the extract at once with one line that
names the source and never the password."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime, timezone

import duckdb
import pytest

from pinterest_pipeline.errors import PipelineError
from pinterest_pipeline.support.package_files import sql_path
from pinterest_pipeline.warehouse import WarehouseSource, extract_window
from tests.warehouse_fixtures import (
    PACKAGED_POSTGRESQL_SQL,
    TEST_SQL,
    copy_to_postgres,
    copy_to_sqlite,
    make_sample_warehouse,
    run_transform,
)

URI_ENV = "PINTEREST_WAREHOUSE_URI"
WINDOW = (datetime(2024, 6, 2, tzinfo=timezone.utc), datetime(2024, 6, 3, tzinfo=timezone.utc))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return make_sample_warehouse(tmp_path_factory.mktemp("sample") / "shop.duckdb")


@pytest.fixture(scope="module")
def postgres_warehouse(sample, postgres_server) -> str:
    url = postgres_server.create_database()
    copy_to_postgres(sample, url)
    return url


@pytest.fixture(scope="module")
def sqlite_warehouse(sample, tmp_path_factory):
    return copy_to_sqlite(sample, tmp_path_factory.mktemp("sqlite") / "shop.sqlite")


@pytest.fixture(scope="module")
def duckdb_file_run(sample, tmp_path_factory):
    """The reference: the day from the DuckDB file with the packaged extracts, as the console command."""
    run = run_transform(tmp_path_factory.mktemp("reference"), "--warehouse", str(sample), as_command=True)
    assert run.code == 0, run.stderr
    # 300 rows a day: every one is an event or a reject, and some of each.
    assert run.events.count(b"\n") + run.rejects.count(b"\n") == 300 and run.rejects.count(b"\n") > 10
    return run


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def _postgres_count(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_postgresql_through_the_console_command_is_byte_identical_to_the_duckdb_file(
    tmp_path, postgres_warehouse, duckdb_file_run
):
    run = run_transform(
        tmp_path, "--warehouse-adbc", "postgresql", "--sql-dir", str(PACKAGED_POSTGRESQL_SQL),
        env={URI_ENV: postgres_warehouse}, as_command=True,
    )
    assert run.code == 0, run.stderr
    assert (run.events, run.rejects) == (duckdb_file_run.events, duckdb_file_run.rejects)


def test_sqlite_is_byte_identical_to_the_duckdb_file(tmp_path, sample, sqlite_warehouse, monkeypatch):
    """SQLite has no arrays, so its example covers the orders (one ad id each); the reference runs
    the same single extract from the DuckDB file. The day is the one with LDP orders: SQLite's
    driver types a result column from its values, and a column NULL in every row comes as BIGINT."""
    monkeypatch.setenv(URI_ENV, str(sqlite_warehouse))
    through_sqlite = run_transform(
        tmp_path / "sqlite", "--warehouse-adbc", "sqlite", "--sql-dir", str(TEST_SQL / "sqlite"), day="2024-06-01"
    )
    orders_only = tmp_path / "duckdb_orders"
    orders_only.mkdir()
    shutil.copyfile(sql_path("extract_orders.sql"), orders_only / "extract_orders.sql")
    from_file = run_transform(
        tmp_path / "file", "--warehouse", str(sample), "--sql-dir", str(orders_only), day="2024-06-01"
    )
    assert through_sqlite.code == from_file.code == 0
    assert from_file.events.count(b"\n") > 20
    assert (through_sqlite.events, through_sqlite.rejects) == (from_file.events, from_file.rejects)


def test_postgresql_numeric_columns_arrive_as_decimals_and_lists_as_lists(con, postgres_warehouse, monkeypatch):
    monkeypatch.setenv(URI_ENV, postgres_warehouse)
    source = WarehouseSource(adbc_driver="postgresql")
    rows = extract_window(con, source, PACKAGED_POSTGRESQL_SQL / "extract_events.sql", *WINDOW, "events")
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'events'").fetchall())
    assert rows == con.execute("SELECT count(*) FROM events").fetchone()[0] > 200
    assert {name: types[name] for name in ("event_time", "value", "maid", "opt_out", "products")} == {
        "event_time": "TIMESTAMP WITH TIME ZONE", "value": "DECIMAL(12,2)", "maid": "VARCHAR[]",
        "opt_out": "BOOLEAN", "products": "JSON",
    }


@pytest.mark.parametrize(
    ("driver", "write"),
    [
        ("postgresql", "WITH gone AS (DELETE FROM orders RETURNING order_id) SELECT count(*) AS n FROM gone"),
        ("sqlite", "DELETE FROM orders RETURNING order_id"),
    ],
)
def test_an_extract_that_writes_fails_and_the_warehouse_is_unchanged(
    tmp_path, con, driver, write, postgres_warehouse, sqlite_warehouse, monkeypatch
):
    uri = postgres_warehouse if driver == "postgresql" else str(sqlite_warehouse)
    monkeypatch.setenv(URI_ENV, uri)
    before = _postgres_count(uri, "orders") if driver == "postgresql" else sqlite_warehouse.read_bytes()
    sql_file = tmp_path / "extract_writes.sql"
    sql_file.write_text(write)
    with pytest.raises(PipelineError) as raised:
        extract_window(con, WarehouseSource(adbc_driver=driver), sql_file, *WINDOW, "rows")
    message = str(raised.value)
    assert message.startswith(f"warehouse {WarehouseSource(adbc_driver=driver).describe()}: extract_writes.sql failed: ")
    assert ("read-only transaction" if driver == "postgresql" else "attempt to write a readonly database") in message
    after = _postgres_count(uri, "orders") if driver == "postgresql" else sqlite_warehouse.read_bytes()
    assert after == before


def test_the_postgresql_session_is_read_only(con, postgres_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv(URI_ENV, postgres_warehouse)
    sql_file = tmp_path / "extract_settings.sql"
    sql_file.write_text("SELECT current_setting('transaction_read_only') AS read_only, $window_start AS s, $window_end AS e")
    extract_window(con, WarehouseSource(adbc_driver="postgresql"), sql_file, *WINDOW, "settings")
    assert con.execute("SELECT read_only, s, e FROM settings").fetchall() == [("on", *WINDOW)]


def _failure(case: str, url: str, server, tmp_path) -> tuple[dict, str, str]:
    """(environment, SQL, expected message) for one way an ADBC extract fails."""
    host = f"postgresql://postgres@127.0.0.1:{server.port}"
    db = url.rsplit("/", 1)[1]
    good_sql = "SELECT event_id FROM events WHERE occurred_at >= $window_start AND occurred_at < $window_end"
    return {
        "wrong password": (
            {URI_ENV: url.replace(server.password, "not-the-password")}, good_sql,
            f'warehouse {host}/{db}: cannot connect: Failed to connect: connection to server at "127.0.0.1", '
            f'port {server.port} failed: FATAL:  password authentication failed for user "postgres"',
        ),
        "unreachable server": (
            {URI_ENV: url.replace(f":{server.port}/", ":1/")}, good_sql,
            'warehouse postgresql://postgres@127.0.0.1:1/' + db + ': cannot connect: Failed to connect: connection '
            'to server at "127.0.0.1", port 1 failed: Connection refused',
        ),
        "not a URI": (
            {URI_ENV: "nonsense"}, good_sql,
            'warehouse postgresql:nonsense: cannot connect: Failed to connect: missing "=" after "nonsense" in '
            "connection info string",
        ),
        "bad port": (
            {URI_ENV: url.replace(f":{server.port}/", ":not-a-port/")}, good_sql,
            f"warehouse postgresql://postgres@127.0.0.1/{db}: cannot connect: Failed to connect: invalid integer "
            'value "not-a-port" for connection option "port"',
        ),
        "missing database": (
            {URI_ENV: url.rsplit("/", 1)[0] + "/no_such_db"}, good_sql,
            f'warehouse {host}/no_such_db: cannot connect: Failed to connect: connection to server at "127.0.0.1", '
            f'port {server.port} failed: FATAL:  database "no_such_db" does not exist',
        ),
        "failing statement": (
            {URI_ENV: url}, "SELECT 1 / 0 AS n",
            f"warehouse {host}/{db}: extract_case.sql failed: Failed to execute query: could not begin COPY: "
            "ERROR:  division by zero",
        ),
        "missing column": (
            {URI_ENV: url}, "SELECT no_such_column FROM events",
            f'warehouse {host}/{db}: extract_case.sql failed: Failed to prepare query: ERROR:  column '
            '"no_such_column" does not exist',
        ),
        "unset variable": (
            {}, good_sql,
            "warehouse postgresql ($PINTEREST_WAREHOUSE_URI): environment variable PINTEREST_WAREHOUSE_URI is not "
            "set (it holds the postgresql URI)",
        ),
    }[case]


FAILURES = ["wrong password", "unreachable server", "not a URI", "bad port", "missing database", "failing statement",
            "missing column", "unset variable"]


@pytest.mark.parametrize("case", FAILURES)
def test_each_failure_is_one_line_naming_the_source_and_never_the_password(
    case, con, postgres_warehouse, postgres_server, tmp_path, monkeypatch
):
    environment, sql, expected = _failure(case, postgres_warehouse, postgres_server, tmp_path)
    monkeypatch.delenv(URI_ENV, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    sql_file = tmp_path / "extract_case.sql"
    sql_file.write_text(sql)
    with pytest.raises(PipelineError) as raised:
        extract_window(con, WarehouseSource(adbc_driver="postgresql"), sql_file, *WINDOW, "rows")
    assert str(raised.value) == expected
    assert postgres_server.password not in str(raised.value)


@pytest.mark.parametrize("case", FAILURES)
def test_the_cli_prints_each_failure_as_one_line_without_the_password(
    case, postgres_warehouse, postgres_server, tmp_path, monkeypatch, capsys
):
    environment, sql, expected = _failure(case, postgres_warehouse, postgres_server, tmp_path)
    monkeypatch.delenv(URI_ENV, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "extract_case.sql").write_text(sql)
    run = run_transform(tmp_path, "--warehouse-adbc", "postgresql", "--sql-dir", str(tmp_path / "sql"), capsys=capsys)
    assert run.code == 2
    assert run.stderr == f"pinterest-pipeline transform: error: {expected}\n"
    assert postgres_server.password not in run.stderr
    assert not (tmp_path / "events.ndjson").exists()


@pytest.mark.parametrize(
    ("driver", "module", "install"),
    [
        ("postgresql", "adbc_driver_postgresql.dbapi", 'pip install "pinterest-pipeline[postgres]"'),
        ("sqlite", "adbc_driver_sqlite.dbapi", 'pip install "pinterest-pipeline[sqlite]"'),
        ("snowflake", "adbc_driver_snowflake.dbapi", 'pip install "pinterest-pipeline[snowflake]"'),
        ("flightsql", "adbc_driver_flightsql.dbapi", "pip install adbc-driver-flightsql"),
    ],
)
def test_a_missing_driver_names_the_extra_to_install(driver, module, install, con, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # what an uninstalled package looks like to import
    monkeypatch.setenv(URI_ENV, "postgresql://reader:s3cret@db.example.com:5432/shop")
    sql_file = tmp_path / "extract_orders.sql"
    sql_file.write_text("SELECT 1 AS n")
    with pytest.raises(PipelineError) as raised:
        extract_window(con, WarehouseSource(adbc_driver=driver), sql_file, *WINDOW, "rows")
    assert str(raised.value) == (
        f"warehouse postgresql://reader@db.example.com:5432/shop: the ADBC driver for {driver} is not installed: {install}"
    )


def test_a_missing_sqlite_file_is_not_created(con, tmp_path, monkeypatch):
    missing = tmp_path / "nowhere.sqlite"
    monkeypatch.setenv(URI_ENV, str(missing))
    sql_file = tmp_path / "extract_orders.sql"
    sql_file.write_text("SELECT 1 AS n")
    with pytest.raises(PipelineError) as raised:
        extract_window(con, WarehouseSource(adbc_driver="sqlite"), sql_file, *WINDOW, "rows")
    assert str(raised.value) == f"warehouse sqlite:{missing}: cannot connect: database file {missing} does not exist"
    assert not missing.exists()
