"""Conversion sources the CLI accepts: Parquet, CSV and NDJSON files, a DuckDB table
(`file.duckdb:table`) or a SQL query, each registered as a view of contract rows (docs/rules.md#the-source-contract).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pinterest_pipeline.errors import InputError, first_line
from pinterest_pipeline.support.sql_identifiers import quote_identifier

# POSITION_COLUMN is re-exported: the Dagster day view and the transform read it from here.
from pinterest_pipeline.transform.contract import POSITION_COLUMN as POSITION_COLUMN
from pinterest_pipeline.transform.contract import inspect_source

SOURCE_VIEW = "pinterest_source"

_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".tsv", ".csv.gz", ".tsv.gz")
_NDJSON = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")
_JSON = (".json", ".json.gz")
_DUCKDB = (".duckdb", ".db", ".ddb")
_SQL_START = re.compile(r"^\s*(select|with|from|values|table|\()\b", re.IGNORECASE)
_FORMAT_NAMES = {_PARQUET: "Parquet", _CSV: "CSV", _NDJSON: "NDJSON", _JSON: "JSON"}


def register_source(con: duckdb.DuckDBPyConnection, input: str, view: str = SOURCE_VIEW) -> str:
    """Register `input` as the temporary view `view` in `con` and check it against the contract.

    `input` is a path to a Parquet, CSV or NDJSON file (by extension), `path.duckdb:table`
    (attached read-only), or a SQL query over what `con` can read. Returns the view's name.
    Raises `InputError` naming the input when it is missing, unreadable, not in the format its
    extension says, or lacks a required column or has one of an unusable type.
    """
    relation = _relation_for(con, input)
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_identifier(view)} AS {relation.sql_query()}")
    except duckdb.Error as exc:
        raise InputError(f"{input}: cannot read: {first_line(exc)}") from None
    inspect_source(con, view, label=input)
    return view


def _relation_for(con: duckdb.DuckDBPyConnection, input: str) -> duckdb.DuckDBPyRelation:
    if _SQL_START.match(input) and not Path(input).exists():
        try:
            return con.sql(input)
        except duckdb.Error as exc:
            raise InputError(f"source query failed: {first_line(exc)}") from None
    database, _, table = input.rpartition(":")
    if database and database.lower().endswith(_DUCKDB) and table:
        return _duckdb_table(con, database, table, input)
    path = Path(input)
    if not path.is_file():
        raise InputError(f"{input}: no such file")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    readers = {
        _PARQUET: lambda: con.read_parquet(str(path), file_row_number=True).select(
            duckdb.StarExpression(exclude=["file_row_number"]),
            duckdb.ColumnExpression("file_row_number").alias(POSITION_COLUMN),
        ),
        _CSV: lambda: con.read_csv(str(path)),
        _NDJSON: lambda: con.read_json(str(path), format="newline_delimited"),
        _JSON: lambda: con.read_json(str(path)),
    }
    for extensions, read in readers.items():
        if suffix in extensions:
            try:
                return read()
            except duckdb.Error as exc:
                raise InputError(
                    f"{input}: not a readable {_FORMAT_NAMES[extensions]} file: {first_line(exc)}"
                ) from None
    raise InputError(
        f"{input}: unknown file type {suffix or '(none)'}; expected .parquet, .csv, .ndjson/.jsonl, .json "
        "or file.duckdb:table"
    )


def _duckdb_table(con: duckdb.DuckDBPyConnection, database: str, table: str, input: str) -> duckdb.DuckDBPyRelation:
    if not Path(database).is_file():
        raise InputError(f"{database}: no such file")
    alias = "pinterest_source_db"
    try:
        con.execute(f"DETACH DATABASE IF EXISTS {quote_identifier(alias)}")
        con.execute(f"ATTACH $path AS {quote_identifier(alias)} (READ_ONLY)", {"path": database})
    except duckdb.Error as exc:
        raise InputError(f"{database}: not a readable DuckDB database: {first_line(exc)}") from None
    qualified = ".".join(quote_identifier(part) for part in [alias, *table.split(".")])
    try:
        return con.sql(f"SELECT * FROM {qualified}")
    except duckdb.Error:
        raise InputError(f"{input}: no table {table!r} in {database}") from None
