"""ADBC sources: the extract SQL runs in the warehouse itself, in its own dialect.

The URI is read from the source's environment variable when the extract runs and is shown only
through `display_uri`. The window placeholders become the driver's positional ones and are bound
as UTC TIMESTAMPTZ values. The connection is made read-only where the database has such a mode
(PostgreSQL: every transaction of the session READ ONLY; SQLite: the file opened `mode=ro` and
`PRAGMA query_only`); elsewhere the warehouse's own grants are the guard, and the docs say to use
a read-only role. The result streams as Arrow record batches straight into the DuckDB table:
no row passes through Python.

Any failure (driver not installed, variable unset, cannot connect, statement fails) raises a
`WarehouseError` at once, without retries, naming the source and never its credentials.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

import duckdb
import pyarrow as pa

from pinterest_pipeline.errors import first_line
from pinterest_pipeline.support.sql_identifiers import quote_identifier
from pinterest_pipeline.warehouse.source import WarehouseError, WarehouseSource
from pinterest_pipeline.warehouse.sql_text import Paramstyle, rewrite_window_placeholders
from pinterest_pipeline.warehouse.uri_display import display_uri, redact, secrets_in_uri

# ADBC prefixes its messages with a status code ("IO: ", "NOT_FOUND: "), libpq's with "[libpq] ".
_STATUS_PREFIX = re.compile(r"^(?:[A-Z_]+: )?(?:\[[A-Za-z]+\] )?")


@dataclass(frozen=True)
class AdbcDriver:
    """What differs between ADBC drivers: package, placeholders, how to open read-only."""

    name: str
    install: str
    paramstyle: Paramstyle = "qmark"
    # Statements run right after connecting, before the extract, to make the session read-only.
    read_only_statements: tuple[str, ...] = ()
    # Turns the user's URI into the one to connect with (SQLite: open the file read-only).
    prepare_uri: Callable[[str], str] = field(default=lambda uri: uri)

    @property
    def module(self) -> str:
        return f"adbc_driver_{self.name}.dbapi"


def _sqlite_read_only_uri(uri: str) -> str:
    """A SQLite path or `file:` URI as a `file:` URI with `mode=ro`: SQLite itself then refuses
    every write, and a missing file is an error rather than a new empty database."""
    path_part, _, query = uri.removeprefix("file:").partition("?")
    path = Path(path_part.removeprefix("//"))
    if not path.is_file():
        raise FileNotFoundError(f"database file {path} does not exist")
    parameters = [item for item in query.split("&") if item and not item.startswith("mode=")]
    return f"file:{quote(str(path.resolve()))}?" + "&".join(["mode=ro", *parameters])


DRIVERS = {
    driver.name: driver
    for driver in (
        AdbcDriver(
            "postgresql",
            'pip install "pinterest-pipeline[postgres]"',
            paramstyle="numbered",
            read_only_statements=("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",),
        ),
        AdbcDriver(
            "sqlite",
            'pip install "pinterest-pipeline[sqlite]"',
            read_only_statements=("PRAGMA query_only = ON",),
            prepare_uri=_sqlite_read_only_uri,
        ),
        AdbcDriver("snowflake", 'pip install "pinterest-pipeline[snowflake]"'),
        AdbcDriver("bigquery", 'pip install "pinterest-pipeline[bigquery]"'),
    )
}


def driver_for(name: str) -> AdbcDriver:
    """The known driver `name`, or a generic one: package `adbc-driver-<name>`, `?` placeholders."""
    return DRIVERS.get(name) or AdbcDriver(name, f"pip install adbc-driver-{name.replace('_', '-')}")


def create_extract_table(
    con: duckdb.DuckDBPyConnection,
    source: WarehouseSource,
    sql_file: Path,
    query: str,
    start: datetime,
    end: datetime,
    create_table: Callable[[str], str],
) -> None:
    """Run `query` in the warehouse for [start, end) and stream its rows into DuckDB with the
    statement `create_table(select)` (a CREATE TABLE ... AS `select`)."""
    driver = driver_for(str(source.adbc_driver))
    dbapi = _load(driver, source)
    uri = os.environ.get(source.uri_variable, "").strip()
    if not uri:
        raise WarehouseError(
            f"warehouse {source.describe()}: environment variable {source.uri_variable} is not set"
            f" (it holds the {driver.name} URI)"
        )

    def fail(problem: str, exc: BaseException) -> WarehouseError:
        message = _STATUS_PREFIX.sub("", first_line(exc)).replace(uri, display_uri(uri))
        return WarehouseError(f"warehouse {source.describe()}: {problem}: {redact(message, secrets_in_uri(uri))}")

    sql, order = rewrite_window_placeholders(query, driver.paramstyle)
    bounds = {"window_start": start, "window_end": end}
    try:
        connection = _connect(dbapi, driver.prepare_uri(uri))
    except Exception as exc:  # drivers raise their own DB-API errors, OSError, ValueError...
        raise fail("cannot connect", exc) from None
    try:
        with connection.cursor() as cursor:
            try:
                for statement in driver.read_only_statements:
                    cursor.execute(statement)
            except Exception as exc:
                raise fail("cannot open a read-only session", exc) from None
            try:
                # A newline after the SQL: PostgreSQL's driver wraps it in COPY (...), which a
                # comment on its last line would otherwise swallow.
                cursor.execute(sql + "\n", [bounds[name] for name in order] or None)
                reader = cursor.fetch_record_batch()
                _stream_into(con, reader, create_table)
            except duckdb.InterruptException:
                raise
            except Exception as exc:
                raise fail(f"{sql_file.name} failed", exc) from None
    finally:
        connection.close()


def _load(driver: AdbcDriver, source: WarehouseSource) -> ModuleType:
    try:
        return importlib.import_module(driver.module)
    except ImportError:
        raise WarehouseError(
            f"warehouse {source.describe()}: the ADBC driver for {driver.name} is not installed: {driver.install}"
        ) from None


def _connect(dbapi: ModuleType, uri: str):
    # Every driver but BigQuery's takes the URI as its first argument; the others take the
    # standard ADBC `uri` option.
    if "uri" in inspect.signature(dbapi.connect).parameters:
        return dbapi.connect(uri, autocommit=True)
    return dbapi.connect(db_kwargs={"uri": uri}, autocommit=True)


def _stream_into(
    con: duckdb.DuckDBPyConnection, reader: pa.RecordBatchReader, create_table: Callable[[str], str]
) -> None:
    """Scan `reader` once into DuckDB, restoring the column types the driver could not carry."""
    view = f"adbc_batches_{uuid.uuid4().hex}"
    # DuckDB 2.0 refuses register() while a result of an earlier execute() is unread; the next
    # execute() would discard that result anyway.
    con.abort()
    con.register(view, reader)
    try:
        columns = ", ".join(_column(field) for field in reader.schema)
        con.execute(create_table(f"SELECT {columns} FROM {view}"))
    finally:
        con.unregister(view)


def _column(arrow_field: pa.Field) -> str:
    """One column of the select list over the batches.

    PostgreSQL's driver hands NUMERIC over as text (Arrow has no arbitrary-precision decimal);
    a column declared NUMERIC(p, s) comes back DECIMAL(p, s), the type the DuckDB extract has,
    from the precision and scale PostgreSQL sends as the column's type modifier. Unconstrained
    NUMERIC stays text, which the contract reads as a number too.
    """
    name = quote_identifier(arrow_field.name)
    metadata = arrow_field.metadata or {}
    if metadata.get(b"POSTGRESQL:type") == b"numeric":
        typmod = int(metadata.get(b"POSTGRESQL:typmod", b"-1"))
        if typmod >= 4:
            precision, scale = (typmod - 4) >> 16, (typmod - 4) & 0xFFFF
            if 0 < precision <= 38:
                return f"CAST({name} AS DECIMAL({precision}, {scale})) AS {name}"
    return name
