"""DuckDB-native sources: the extract SQL is DuckDB SQL, run in the pipeline's own connection.

The warehouse, when there is one to attach (a file, or anything an extension attaches), is
ATTACHed READ_ONLY as `warehouse`, so the extract can read it and never write it. Setup
statements (LOAD, SET, CREATE OR REPLACE SECRET) run first, with `${NAME}` read from the
environment. While the extract runs, DuckDB's `file_search_path` is the SQL file's directory, so
`read_parquet('orders/*.parquet')` reads the files beside the SQL; the previous value comes back
afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pinterest_pipeline.errors import first_line
from pinterest_pipeline.warehouse.source import WAREHOUSE_ALIAS, WarehouseError, WarehouseSource
from pinterest_pipeline.warehouse.sql_text import (
    UnsetVariable,
    environment_references,
    expand_environment,
    expand_in_text,
)
from pinterest_pipeline.warehouse.uri_display import redact


def attach_warehouse(con: duckdb.DuckDBPyConnection, warehouse_path: str | Path) -> None:
    """Attach the DuckDB file READ_ONLY as `warehouse`, unless that exact file already is.

    A `warehouse` attached from another file, or writable, is detached and attached again, so that a
    long-lived connection follows a changed configuration and never writes to the warehouse.
    """
    path = Path(warehouse_path)
    if not path.is_file():
        raise WarehouseError(f"warehouse {path} does not exist")
    if _attached_read_only(con, lambda attached: Path(attached).resolve() == path.resolve()):
        return
    try:
        con.execute(f"ATTACH $path AS {WAREHOUSE_ALIAS} (READ_ONLY)", {"path": str(path)})
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open warehouse {path}: {first_line(exc)}") from None


def create_extract_table(
    con: duckdb.DuckDBPyConnection,
    source: WarehouseSource,
    sql_file: Path,
    create_table: str,
    parameters: dict[str, object],
) -> None:
    """Run the setup, attach the warehouse and run `create_table` (a CREATE TABLE ... AS over the
    extract SQL) with `parameters` bound by name, relative paths resolving beside `sql_file`."""
    secrets = _run_setup(con, source)
    if source.kind == "duckdb_file":
        attach_warehouse(con, str(source.path))
    elif source.kind == "duckdb_attach":
        secrets += _attach_target(con, source)
    try:
        with _file_search_path(con, sql_file.resolve().parent):
            con.execute(create_table, parameters)
    except duckdb.InterruptException:
        raise
    except duckdb.Error as exc:
        raise WarehouseError(
            f"warehouse {source.describe()}: {sql_file.name} failed: {redact(first_line(exc), secrets)}"
        ) from None


def _run_setup(con: duckdb.DuckDBPyConnection, source: WarehouseSource) -> list[str]:
    """Run the setup statements; return the environment values they read (to keep out of errors)."""
    secrets: list[str] = []
    for number, statement in enumerate(source.setup, start=1):
        where = f"warehouse {source.describe()}: setup statement {number}"
        try:
            expanded = expand_environment(statement, os.environ)
        except UnsetVariable as missing:
            raise WarehouseError(f"{where} reads ${{{missing.name}}}, which is not set") from None
        secrets += [os.environ[name] for name in environment_references(statement)]
        try:
            con.execute(expanded)
        except duckdb.InterruptException:
            raise
        except duckdb.Error as exc:
            raise WarehouseError(f"{where} failed: {redact(first_line(exc), secrets)}") from None
    return secrets


def _attach_target(con: duckdb.DuckDBPyConnection, source: WarehouseSource) -> list[str]:
    """ATTACH the source's target READ_ONLY as `warehouse` (bound, never formatted into the SQL);
    return the environment values it read."""
    target_text = str(source.attach)
    try:
        target = expand_in_text(target_text, os.environ)
    except UnsetVariable as missing:
        raise WarehouseError(
            f"warehouse {source.describe()}: attach reads ${{{missing.name}}}, which is not set"
        ) from None
    secrets = [os.environ[name] for name in environment_references(target_text)]
    if _attached_read_only(con, lambda attached: attached == target):
        return secrets
    try:
        con.execute(f"ATTACH $target AS {WAREHOUSE_ALIAS} (READ_ONLY)", {"target": target})
    except duckdb.InterruptException:
        raise
    except duckdb.Error as exc:
        message = redact(first_line(exc).replace(target, source.describe()), secrets)
        raise WarehouseError(f"warehouse {source.describe()}: cannot attach: {message}") from None
    return secrets


def _attached_read_only(con: duckdb.DuckDBPyConnection, same_target) -> bool:
    """Whether `warehouse` is attached read-only from the wanted target; detach it if it is
    attached otherwise (writable, or from elsewhere)."""
    attached = con.execute(
        "SELECT path, readonly FROM duckdb_databases() WHERE database_name = $alias",
        {"alias": WAREHOUSE_ALIAS},
    ).fetchone()
    if attached is None:
        return False
    attached_path, readonly = attached
    if readonly and attached_path and same_target(attached_path):
        return True
    con.execute(f"DETACH {WAREHOUSE_ALIAS}")
    return False


@contextmanager
def _file_search_path(con: duckdb.DuckDBPyConnection, directory: Path) -> Iterator[None]:
    previous = con.execute("SELECT current_setting('file_search_path')").fetchone()[0]
    con.execute("SET file_search_path = $directory", {"directory": str(directory)})
    try:
        yield
    finally:
        if previous:
            con.execute("SET file_search_path = $previous", {"previous": previous})
        else:
            con.execute("RESET file_search_path")
