"""DuckDB-native warehouse sources (docs/warehouses.md): Parquet files the SQL reads by relative path, a
DuckDB file, and `attach` + `setup` with values from the environment. The first two give the
same events as the packaged DuckDB-file extracts; the warehouse is never written; a failing
setup statement or extract names the source and hides the environment's values."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import duckdb
import pytest

from pinterest_pipeline.errors import PipelineError
from pinterest_pipeline.support.package_files import sql_path
from pinterest_pipeline.warehouse import WarehouseSource, extract_window
from tests.warehouse_fixtures import export_parquet, make_sample_warehouse, run_transform

WINDOW = (datetime(2024, 6, 2, tzinfo=timezone.utc), datetime(2024, 6, 3, tzinfo=timezone.utc))
SECRET = "s3cr3t-'value"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return make_sample_warehouse(tmp_path_factory.mktemp("sample") / "shop.duckdb")


@pytest.fixture(scope="module")
def parquet_dir(sample, tmp_path_factory):
    return export_parquet(sample, tmp_path_factory.mktemp("parquet"))


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_parquet_files_give_the_same_events_as_the_duckdb_file(tmp_path, sample, parquet_dir, capsys):
    from_file = run_transform(tmp_path / "file", "--warehouse", str(sample), capsys=capsys)
    from_parquet = run_transform(tmp_path / "parquet", "--sql-dir", str(parquet_dir), capsys=capsys)
    assert from_file.code == from_parquet.code == 0
    assert from_file.events.count(b"\n") + from_file.rejects.count(b"\n") == 300
    assert (from_parquet.events, from_parquet.rejects) == (from_file.events, from_file.rejects)


def test_relative_paths_resolve_beside_the_sql_and_the_search_path_is_restored(con, parquet_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # nowhere near the data
    con.execute("SET file_search_path = '/somewhere/else'")
    rows = extract_window(con, WarehouseSource(), parquet_dir / "extract_orders.sql", *WINDOW, "orders")
    assert rows == 30
    assert con.execute("SELECT current_setting('file_search_path')").fetchone() == ("/somewhere/else",)


def test_the_packaged_sql_directories_hold_both_extracts():
    for directory in ("parquet", "postgresql"):
        assert sorted(p.name for p in sql_path(directory).glob("extract_*.sql")) == ["extract_events.sql", "extract_orders.sql"]


def test_attach_and_setup_read_the_environment(con, sample, tmp_path, monkeypatch):
    """`attach` takes a DuckDB file's path here (MotherDuck, S3 and the postgres extension need
    extensions this machine cannot download); `${NAME}` expands in the target and, as a quoted
    literal, in setup statements."""
    copy = tmp_path / "shop copy.duckdb"
    shutil.copy(sample, copy)
    monkeypatch.setenv("SHOP_DIR", str(tmp_path))
    monkeypatch.setenv("SHOP_LABEL", SECRET)
    source = WarehouseSource(
        attach="${SHOP_DIR}/shop copy.duckdb",
        setup=["SET VARIABLE shop_label = ${SHOP_LABEL}", "SET VARIABLE shop_note = 'label: ${SHOP_LABEL}'"],
    )
    rows = extract_window(con, source, sql_path("extract_orders.sql"), *WINDOW, "orders")
    assert rows == 30
    assert con.execute("SELECT getvariable('shop_label'), getvariable('shop_note')").fetchone() == (SECRET, f"label: {SECRET}")
    assert con.execute("SELECT path, readonly FROM duckdb_databases() WHERE database_name = 'warehouse'").fetchone() == (
        str(copy), True,
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            {"path": "PATH", "setup": ["SET threads = ${SHOP_LABEL}"]},
            "warehouse PATH: setup statement 1 failed: Invalid Input Error: Failed to cast value: Could not convert "
            "string '***' to INT64",
        ),
        (
            {"setup": ["SET memory_limit = '1GB'", "SET no_such_setting = 1"]},
            "warehouse files read by the extract SQL: setup statement 2 failed: Catalog Error: unrecognized "
            'configuration parameter "no_such_setting"',
        ),
        (
            {"attach": "md:shop?motherduck_token=${SHOP_LABEL}", "setup": ["SET VARIABLE x = ${NOT_SET_ANYWHERE}"]},
            "warehouse md:shop: setup statement 1 reads ${NOT_SET_ANYWHERE}, which is not set",
        ),
        (
            {"attach": "${SHOP_DIR_UNSET}/shop.duckdb"},
            "warehouse ${SHOP_DIR_UNSET}/shop.duckdb: attach reads ${SHOP_DIR_UNSET}, which is not set",
        ),
        (
            {"attach": "ATTACHED/missing.duckdb"},
            "warehouse ATTACHED/missing.duckdb: cannot attach: IO Error: Cannot open database "
            '"ATTACHED/missing.duckdb" in read-only mode: database does not exist',
        ),
        (
            {"path": "PATH/missing.duckdb"},
            "warehouse PATH/missing.duckdb does not exist",
        ),
    ],
)
def test_setup_and_attach_failures_name_the_source_and_hide_the_values(con, sample, tmp_path, monkeypatch, source, message):
    monkeypatch.setenv("SHOP_LABEL", SECRET)
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    monkeypatch.delenv("SHOP_DIR_UNSET", raising=False)
    resolved = {
        key: (value.replace("PATH", str(sample)).replace("ATTACHED", str(tmp_path)) if isinstance(value, str) else value)
        for key, value in source.items()
    }
    with pytest.raises(PipelineError) as raised:
        extract_window(con, WarehouseSource.parse(resolved), sql_path("extract_orders.sql"), *WINDOW, "orders")
    text = str(raised.value)
    assert text == message.replace("PATH", str(sample)).replace("ATTACHED", str(tmp_path))
    assert SECRET not in text and "\n" not in text


@pytest.mark.parametrize(
    "write",
    [
        "WITH gone AS (DELETE FROM warehouse.orders RETURNING order_id) SELECT * FROM gone",
        "WITH made AS (INSERT INTO warehouse.products (sku) VALUES ('x') RETURNING sku) SELECT * FROM made",
    ],
)
def test_an_extract_that_writes_to_the_duckdb_file_fails_and_the_file_is_unchanged(con, sample, tmp_path, write):
    before = sample.read_bytes()
    sql_file = tmp_path / "extract_writes.sql"
    sql_file.write_text(write)
    with pytest.raises(PipelineError) as raised:
        extract_window(con, WarehouseSource(path=str(sample)), sql_file, *WINDOW, "rows")
    assert str(raised.value) == (
        f'warehouse {sample}: extract_writes.sql failed: Invalid Input Error: Cannot execute statement of type '
        '"CREATE" on database "warehouse" which is attached in read-only mode!'
    )
    assert sample.read_bytes() == before


def test_a_missing_column_names_the_source_and_the_file(con, sample, tmp_path):
    sql_file = tmp_path / "extract_orders.sql"
    sql_file.write_text("SELECT no_such_column FROM warehouse.orders WHERE placed_at >= $window_start")
    with pytest.raises(PipelineError) as raised:
        extract_window(con, WarehouseSource(path=str(sample)), sql_file, *WINDOW, "rows")
    assert str(raised.value).startswith(
        f'warehouse {sample}: extract_orders.sql failed: Binder Error: Referenced column "no_such_column" not found'
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--warehouse", "w.duckdb"], "a warehouse extract needs --day YYYY-MM-DD"),
        (["--warehouse-adbc", "postgresql", "--day", "2024-06-02"],
         "--warehouse-adbc needs --sql-dir DIR with extract SQL in the warehouse's dialect"),
        (["--warehouse", "w.duckdb", "--warehouse-adbc", "sqlite", "--sql-dir", ".", "--day", "2024-06-02"],
         "give --warehouse or --warehouse-adbc, not both"),
        (["--sql-dir", "no/such/dir", "--day", "2024-06-02"], "--sql-dir no/such/dir is not a directory"),
        (["--sql-dir", "EMPTY", "--day", "2024-06-02"], "--sql-dir EMPTY holds no extract_*.sql file"),
        (["--warehouse-adbc", "Postgres!", "--sql-dir", "EMPTY", "--day", "2024-06-02"],
         "invalid warehouse key 'adbc_driver': not a driver name: 'Postgres!' (e.g. postgresql, sqlite, snowflake, bigquery)"),
        (["input.parquet", "--day", "2024-06-02"], "--day goes with --warehouse/--warehouse-adbc/--sql-dir, not with INPUT"),
    ],
)
def test_cli_option_errors_are_one_line(tmp_path, capsys, args, message):
    from pinterest_pipeline.cli import main

    (tmp_path / "empty").mkdir()
    args = [arg.replace("EMPTY", str(tmp_path / "empty")) for arg in args]
    code = main(["transform", *args, "--out", str(tmp_path / "o"), "--rejected", str(tmp_path / "r")])
    assert code == 2
    assert capsys.readouterr().err == f"pinterest-pipeline transform: error: {message.replace('EMPTY', str(tmp_path / 'empty'))}\n"


def test_extract_files_run_orders_then_events_then_the_rest_by_name(tmp_path):
    from pinterest_pipeline.commands.transform import extract_files

    for name in ("extract_events", "extract_zebra", "extract_orders", "extract_apples", "not_an_extract"):
        (tmp_path / f"{name}.sql").write_text("SELECT 1 AS n")
    assert [p.name for p in extract_files(tmp_path)] == [
        "extract_orders.sql", "extract_events.sql", "extract_apples.sql", "extract_zebra.sql",
    ]
    assert [p.name for p in extract_files(None)] == ["extract_orders.sql", "extract_events.sql"]
