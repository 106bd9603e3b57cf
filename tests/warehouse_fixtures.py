"""The sample warehouse in every form a warehouse test reads: a DuckDB file, a directory of Parquet
files, a PostgreSQL database and a SQLite file, all holding the same rows; and the CLI run that
turns one of its days into events and rejects."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pinterest_pipeline.cli import main
from pinterest_pipeline.sample.warehouse import generate_sample_warehouse
from pinterest_pipeline.support.package_files import sql_path

TABLES = ("products", "customers", "orders", "order_items", "events")
DAY = "2024-06-02"
NOW = "2024-06-03T00:00:00Z"
PACKAGED_PARQUET_SQL = sql_path("parquet")
PACKAGED_POSTGRESQL_SQL = sql_path("postgresql")
TEST_SQL = Path(__file__).resolve().parent / "warehouse_sql"


def make_sample_warehouse(path: Path) -> Path:
    generate_sample_warehouse(path, days=2, rows_per_day=300, seed=4, end=date(2024, 6, 3))
    return path


def export_parquet(warehouse: Path, directory: Path) -> Path:
    """Each table as `directory/data/<table>/part-0.parquet`, beside copies of the packaged
    Parquet extract SQL, which reads them by relative path."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in TABLES:
            (directory / "data" / table).mkdir(parents=True)
            con.execute(f"COPY {table} TO $path (FORMAT parquet)", {"path": str(directory / "data" / table / "part-0.parquet")})
    for sql_file in PACKAGED_PARQUET_SQL.glob("extract_*.sql"):
        (directory / sql_file.name).write_text(sql_file.read_text())
    return directory


def copy_to_postgres(warehouse: Path, url: str) -> None:
    """DuckDB -> Arrow -> ADBC bulk ingest, one table at a time."""
    import adbc_driver_postgresql.dbapi as postgresql

    with duckdb.connect(str(warehouse), read_only=True) as con, postgresql.connect(url) as target:
        with target.cursor() as cursor:
            for table in TABLES:
                cursor.adbc_ingest(table, con.table(table).to_arrow_table(), mode="create")
        target.commit()


def copy_to_sqlite(warehouse: Path, path: Path) -> Path:
    """The tables in SQLite's terms: times as ISO-8601 text in UTC, decimals as exact text."""
    import adbc_driver_sqlite.dbapi as sqlite

    with duckdb.connect(str(warehouse), read_only=True) as con, sqlite.connect(str(path)) as target:
        with target.cursor() as cursor:
            for table in TABLES:
                columns = []
                for name, column_type, *_ in con.execute(f"DESCRIBE {table}").fetchall():
                    if column_type.startswith("DECIMAL"):
                        columns.append(f"{name}::VARCHAR AS {name}")
                    elif column_type == "TIMESTAMP WITH TIME ZONE":
                        columns.append(f"strftime({name} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f') AS {name}")
                    else:
                        columns.append(name)
                rows = con.sql(f"SELECT {', '.join(columns)} FROM {table}").to_arrow_table()
                cursor.adbc_ingest(table, rows, mode="create")
        target.commit()
    return path


@dataclass
class TransformRun:
    code: int
    events: bytes
    rejects: bytes
    stderr: str


def run_transform(tmp_path: Path, *args: str, env: dict[str, str] | None = None, as_command: bool = False,
                  capsys=None, day: str = DAY) -> TransformRun:
    """`pinterest-pipeline transform --day DAY --now NOW ARGS` into files under `tmp_path`: in this
    process (`main`), or as the installed console command in a subprocess."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    out, rejected = tmp_path / "events.ndjson", tmp_path / "rejects.ndjson"
    argv = ["transform", *args, "--day", day, "--now", NOW, "--out", str(out), "--rejected", str(rejected)]
    if as_command:
        command = Path(sys.executable).with_name("pinterest-pipeline")
        finished = subprocess.run([str(command), *argv], capture_output=True, text=True, env={**os.environ, **(env or {})})
        code, stderr = finished.returncode, finished.stderr
    else:
        code = main(argv)
        stderr = capsys.readouterr().err if capsys else ""
    read = lambda path: path.read_bytes() if path.exists() else b""  # noqa: E731
    return TransformRun(code, read(out), read(rejected), stderr)
