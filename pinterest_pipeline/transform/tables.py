"""Contract rows -> Pinterest events and rejects, all in DuckDB (docs/rules.md).

A transform is two queries over the source (`event_sql`), and Python never touches a row:

1. `check_rows()` writes one narrow row per source row to a temporary table: its position, event_id,
   mapped event name and reject `reason`. The in-run duplicates of (event_id, event_name) are found
   on that table, and every row with a reason (duplicates included) goes to the rejects table.
2. The events query normalizes, hashes and serializes the rows without a reason. `transform()`
   stores its result as the events table (what the Dagster assets and the delivery read), less the
   duplicates; `ndjson_output.write_transform_files()` streams it straight into an NDJSON file and
   leaves the duplicates out on the way, since storing a gigabyte of JSON only to read it back costs
   more than building it.

Both queries read the source as it is, in parallel and in order: a table by `rowid`, a source with
a `POSITION_COLUMN` (a Parquet file's row numbers, the Dagster day view) by that column. Only a
source without either (another view, CSV or NDJSON) is first copied into a temporary table. Every
input row ends in exactly one of the events or the rejects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import duckdb

from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.support.sql_identifiers import qualified_name, quote_identifier
from pinterest_pipeline.transform.contract import SourceColumns, inspect_source
from pinterest_pipeline.transform.diagnostics import single_reason_rejection, unmapped_event_names
from pinterest_pipeline.transform.event_sql import build_event_json_query, build_row_check_query
from pinterest_pipeline.transform.event_time import EVENT_TIME_MACROS
from pinterest_pipeline.transform.normalize.sql import install_normalize_macros
from pinterest_pipeline.transform.payload import PAYLOAD_MACROS
from pinterest_pipeline.transform.sources import POSITION_COLUMN

SOURCE_COPY = "pp_source_rows"
CHECKED_ROWS = "pp_checked_rows"
DUPLICATES = "pp_duplicate_rows"


@dataclass
class TransformResult:
    """Counts of one transform; the rows themselves are in `events_table` and `rejects_table`
    (or in the files the transform wrote)."""

    rows_in: int
    events: int
    rejected: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    events_table: str = "pinterest_events"
    rejects_table: str = "pinterest_rejects"
    # Source columns the contract does not read, with did-you-mean hints (`contract.SourceColumns.ignored`).
    ignored_columns: tuple[str, ...] = ()
    # Source event names no taxonomy or mapping knows, sent as `custom`: name -> events, most first.
    custom_event_names: dict[str, int] = field(default_factory=dict)
    # When a non-empty input had every row rejected for one reason: that, with an example row.
    rejected_for_one_reason: str | None = None

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


@dataclass(frozen=True)
class CheckedRows:
    """The first pass of a transform over `source` (rows placed by the SQL `position`): the
    rejects written to `rejects_table`, the in-run duplicates' `source_row`s in the temp table
    `duplicates_table`, and the counts."""

    source: str
    position: str
    rejects_table: str
    duplicates_table: str
    columns: SourceColumns
    config: PipelineConfig
    now: datetime
    rows_in: int
    rejected: dict[str, int]
    custom_event_names: dict[str, int] = field(default_factory=dict)
    rejected_for_one_reason: str | None = None

    @property
    def events(self) -> int:
        return self.rows_in - sum(self.rejected.values())

    @property
    def duplicates(self) -> int:
        return self.rejected.get("duplicate_in_run", 0)

    def event_query(self, *, line_terminated: bool = False) -> tuple[str, dict[str, Any]]:
        """The events query (see `build_event_json_query`, duplicates included) and its bound values."""
        return build_event_json_query(
            self.source, self.position, self.columns, self.config, self.now, line_terminated=line_terminated
        )

    def result(self, warnings: dict[str, int], **tables: str) -> TransformResult:
        """The counts of this transform once its events are built, with their `warnings`;
        `tables` names the events and rejects tables when they are not the defaults."""
        return TransformResult(
            rows_in=self.rows_in,
            events=self.events,
            rejected=self.rejected,
            warnings=warnings,
            ignored_columns=self.columns.ignored,
            custom_event_names=self.custom_event_names,
            rejected_for_one_reason=self.rejected_for_one_reason,
            **tables,
        )

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the scratch tables of this transform."""
        con.execute(f"DROP TABLE IF EXISTS {self.duplicates_table}")
        con.execute(f"DROP TABLE IF EXISTS {SOURCE_COPY}")


def install_transform_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros the queries use (normalization, event time, JSON pieces) in the
    connection's temp schema, once per connection."""
    installed = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'pp_plain_decimal'"
    ).fetchone()[0]
    if installed:
        return
    install_normalize_macros(con)
    con.execute(EVENT_TIME_MACROS)
    con.execute(PAYLOAD_MACROS)


def check_rows(
    con: duckdb.DuckDBPyConnection,
    source: str,
    config: PipelineConfig,
    *,
    now: datetime,
    rejects_table: str = "pinterest_rejects",
    source_label: str | None = None,
    on_stage: Callable[[str], None] | None = None,
    temporary: bool = False,
) -> CheckedRows:
    """Check every row of `source` (a table or view in `con`) against the reject rules.

    `now` is the run's clock for the `too_old`/`in_future` rules (a naive value is read as UTC).
    Creates or replaces `rejects_table` (source_row, event_id, source_key, reason, detail,
    partition_day; a temporary table with `temporary`) and the temp table `DUPLICATES`.
    `source_label` names the source in errors (e.g. the input file); `on_stage` is called with the
    name of each stage as it starts.
    Raises `InputError` when the source does not meet the contract.
    """
    stage = on_stage or (lambda _name: None)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    routing_column = config.routing.column if config.routing is not None else None
    columns = inspect_source(con, source, label=source_label or source, routing_column=routing_column)
    install_transform_macros(con)
    stage("reading input")
    source, position = _placed_source(con, source)
    query = build_row_check_query(source, position, columns, config, now)
    stage("checking rows")
    query.set_lookups(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {CHECKED_ROWS} AS {query.sql}", query.parameters)
    stage("finding in-run duplicates")
    _reject_duplicates(con, CHECKED_ROWS)
    rejects = qualified_name(rejects_table)
    con.execute(
        f"CREATE OR REPLACE {'TEMP ' if temporary else ''}TABLE {rejects} AS "
        "SELECT source_row, event_id, coalesce(event_id, 'row ' || source_row) AS source_key, "
        f"reason, detail, partition_day FROM {CHECKED_ROWS} WHERE reason IS NOT NULL ORDER BY source_row"
    )
    (rows_in,) = con.execute(f"SELECT count(*) FROM {CHECKED_ROWS}").fetchone()
    rejected = dict(
        con.execute(f"SELECT reason, count(*) FROM {rejects} GROUP BY reason ORDER BY count(*) DESC, reason").fetchall()
    )
    custom_event_names = unmapped_event_names(con, CHECKED_ROWS, source, position, config)
    one_reason = single_reason_rejection(con, rejects_table, source, position, rows_in, rejected)
    con.execute(f"DROP TABLE {CHECKED_ROWS}")
    return CheckedRows(
        source, position, rejects_table, DUPLICATES, columns, config, now, rows_in, rejected, custom_event_names,
        one_reason,
    )


def transform(
    con: duckdb.DuckDBPyConnection,
    source: str,
    config: PipelineConfig,
    *,
    now: datetime,
    events_table: str = "pinterest_events",
    rejects_table: str = "pinterest_rejects",
    source_label: str | None = None,
    on_stage: Callable[[str], None] | None = None,
    temporary: bool = False,
) -> TransformResult:
    """Transform the contract rows in `source` (a table or view in `con`) into two tables.

    Creates or replaces `events_table` (source_row, event_id, event_name, event_time,
    partition_day, action_source, event_json, warnings), in input order, and `rejects_table`
    (see `check_rows`), in one transaction; as temporary tables with `temporary`, for a caller
    that copies them into a database file anyway (writing a table into a file compresses it,
    which costs more than building the events: better done once). Raises `InputError` when the
    source does not meet the contract.
    """
    stage = on_stage or (lambda _name: None)
    events = qualified_name(events_table)
    con.execute("BEGIN TRANSACTION")
    try:
        checked = check_rows(
            con, source, config, now=now, rejects_table=rejects_table, source_label=source_label, on_stage=on_stage,
            temporary=temporary,
        )
        stage("normalizing and building events")
        sql, parameters = checked.event_query()
        con.execute(f"CREATE OR REPLACE {'TEMP ' if temporary else ''}TABLE {events} AS {sql}", parameters)
        if checked.duplicates:
            # A delete only marks the rows: the others keep their place and the JSON is not rewritten.
            con.execute(f"DELETE FROM {events} WHERE source_row IN (SELECT source_row FROM {checked.duplicates_table})")
        _ensure_input_order(con, events)
        checked.drop(con)
        warnings = dict(
            con.execute(
                f"SELECT code, count(*) FROM (SELECT unnest(warnings) AS code FROM {events}) "
                "GROUP BY code ORDER BY count(*) DESC, code"
            ).fetchall()
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return checked.result(warnings, events_table=events_table, rejects_table=rejects_table)


def _placed_source(con: duckdb.DuckDBPyConnection, source: str) -> tuple[str, str]:
    """`source`, or a temporary copy of it, and the SQL of a row's 0-based place in it.

    The queries number rows by a place the source itself holds, which a parallel scan keeps and
    reads the same way every time: the `POSITION_COLUMN` a source carries, or the `rowid`
    of a table (the insertion order; a table created in an open transaction numbers its rows from
    a large offset, hence the difference). A view has neither, and numbering it with
    `row_number() OVER ()` would run on one thread, so it is copied into a table once.
    """
    relation = qualified_name(source)
    if POSITION_COLUMN in {name.lower() for name in con.table(relation).columns}:
        return source, quote_identifier(POSITION_COLUMN)
    # Asked of the catalog, not by trying `rowid`: a failed statement would abort an open transaction.
    (is_view,) = con.execute(
        "SELECT count(*) > 0 FROM duckdb_views() WHERE view_name = $name", {"name": source.split(".")[-1]}
    ).fetchall()[0]
    if is_view:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {SOURCE_COPY} AS SELECT * FROM {relation}")
        source, relation = SOURCE_COPY, SOURCE_COPY
    (first_rowid,) = con.execute(f"SELECT coalesce(min(rowid), 0) FROM {relation}").fetchall()[0]
    return source, f"(rowid - {int(first_rowid)})"


def _ensure_input_order(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Store the events in `source_row` order, which delivery and the NDJSON file keep.

    DuckDB keeps insertion order through scans, filters and projections, which is all the events
    query does; this is a safeguard: checking costs one window over an integer column, and the
    wide rows are sorted only when an operator that reorders slipped in.
    """
    (out_of_order,) = con.execute(
        f"SELECT count(*) FROM (SELECT source_row - lag(source_row) OVER (ORDER BY rowid) AS step FROM {table}) "
        "WHERE step <= 0"
    ).fetchone()
    if out_of_order:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} ORDER BY source_row")


def _reject_duplicates(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The first row of each (event_id, event_name) among the sendable rows wins; the later ones
    get the reason `duplicate_in_run`, with a detail naming the winning row, and their
    `source_row`s go into the temp table `DUPLICATES`.

    Grouping tens of millions of distinct string pairs needs more memory than the limit allows,
    so the rows are first grouped by a 64-bit hash of the pair, and only the rows whose hash
    occurs more than once (true duplicates and rare collisions) are grouped by the pair itself.
    """
    sendable = f"SELECT source_row, event_id, event_name FROM {table} WHERE reason IS NULL"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {DUPLICATES} AS
        WITH candidates AS MATERIALIZED (
            SELECT * FROM ({sendable})
             WHERE hash(event_id, event_name) IN (
                   SELECT hash(event_id, event_name) FROM ({sendable}) GROUP BY ALL HAVING count(*) > 1)
        )
        SELECT s.source_row, 'same event_id and event_name as row ' || d.first_row AS detail
          FROM candidates AS s
          JOIN (SELECT event_id, event_name, min(source_row) AS first_row
                  FROM candidates
                 GROUP BY event_id, event_name
                HAVING count(*) > 1) AS d
            ON s.event_id = d.event_id AND s.event_name = d.event_name
         WHERE s.source_row > d.first_row
         ORDER BY s.source_row
        """
    )
    con.execute(
        f"UPDATE {table} SET reason = 'duplicate_in_run', detail = d.detail "
        f"FROM {DUPLICATES} AS d WHERE {table}.source_row = d.source_row"
    )
