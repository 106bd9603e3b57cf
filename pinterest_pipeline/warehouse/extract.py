"""`extract_window`: one window of rows from any warehouse source into a table of the pipeline's DuckDB.

The source decides where the SQL runs (DuckDB itself, or the warehouse through ADBC); the result
is the same: a DuckDB table with the extract's columns, on which everything after runs unchanged.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb

from pinterest_pipeline.support.sql_identifiers import quote_identifier
from pinterest_pipeline.warehouse import adbc, duckdb_native
from pinterest_pipeline.warehouse.source import WarehouseError, WarehouseSource
from pinterest_pipeline.warehouse.sql_text import window_parameters_used


def extract_window(
    con: duckdb.DuckDBPyConnection,
    source: WarehouseSource,
    sql_file: str | Path,
    start: datetime,
    end: datetime,
    table: str,
    *,
    temporary: bool = False,
) -> int:
    """(Re)create `table` in `con` with the rows `sql_file` yields from `source` for [start, end);
    return its row count.

    The SQL writes the window as `$window_start` and `$window_end` (TIMESTAMPTZ, half-open). With
    `temporary` the table is a TEMP one, for a caller that copies the rows into a table of its own.
    `start` and `end` must be timezone-aware. Running it again for the same window replaces the
    table with the same rows, so a re-materialized partition never doubles. The warehouse is
    never written.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware datetimes")
    if not start < end:
        raise ValueError(f"empty window: start {start.isoformat()} is not before end {end.isoformat()}")
    sql_file = Path(sql_file)
    try:
        query = sql_file.read_text(encoding="utf-8").strip().rstrip(";").rstrip()
    except OSError as exc:
        raise WarehouseError(f"extract SQL {sql_file} cannot be read: {exc.strerror or exc}") from None
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def create_table(select: str) -> str:
        # A newline before the query: its last line may be a comment.
        return f"CREATE OR REPLACE {'TEMP ' if temporary else ''}TABLE {quote_identifier(table)} AS\n{select}\n"

    if source.kind == "adbc":
        adbc.create_extract_table(con, source, sql_file, query, start, end, create_table)
    else:
        bounds = {"window_start": start, "window_end": end}
        # DuckDB refuses bound parameters a statement does not use.
        parameters = {name: bounds[name] for name in window_parameters_used(query)}
        duckdb_native.create_extract_table(con, source, sql_file, create_table(query), parameters)
    # fetchall: a result left unfinished would block the next register() on this connection.
    return con.execute(f"SELECT count(*) FROM {quote_identifier(table)}").fetchall()[0][0]
