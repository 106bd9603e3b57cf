"""Contract rows -> Pinterest events and rejects, all in DuckDB (DESIGN §4).

`transform()` reads a table or view of contract rows and (re)creates two tables: the events, each
with its JSON exactly as it will be sent, and the rejects, each with a stable reason. Every input
row ends in exactly one of them. The work is one generated SQL query over the whole source
(`event_sql`), then an in-run dedupe of (event_id, event_name): Python never touches a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import duckdb

from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.contract import inspect_source
from pinterest_pipeline.event_sql import build_event_query
from pinterest_pipeline.event_time import EVENT_TIME_MACROS
from pinterest_pipeline.normalize.sql import install_normalize_macros
from pinterest_pipeline.payload_sql import PAYLOAD_MACROS
from pinterest_pipeline.sources import qualified_name

SOURCE_COPY = "pp_source_rows"
DUPLICATES = "pp_duplicate_rows"


@dataclass
class TransformResult:
    """Counts of one transform; the rows themselves are in `events_table` and `rejects_table`."""

    rows_in: int
    events: int
    rejected: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    events_table: str = "pinterest_events"
    rejects_table: str = "pinterest_rejects"

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def install_transform_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros the event query uses (normalization, event time, JSON pieces) in the
    connection's temp schema, once per connection."""
    installed = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'pp_plain_decimal'"
    ).fetchone()[0]
    if installed:
        return
    install_normalize_macros(con)
    con.execute(EVENT_TIME_MACROS)
    con.execute(PAYLOAD_MACROS)


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
) -> TransformResult:
    """Transform the contract rows in `source` (a table or view in `con`).

    `now` is the run's clock for the `too_old`/`in_future` rules (a naive value is read as UTC).
    Creates or replaces `events_table` (source_row, event_id, event_name, event_time,
    partition_day, action_source, event_json, warnings) and `rejects_table` (source_row,
    event_id, source_key, reason, detail, partition_day). `source_label` names the source in
    errors (e.g. the input file); `on_stage` is called with the name of each stage as it starts.
    Raises `InputError` when the source does not meet the contract.
    """
    stage = on_stage or (lambda _name: None)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    columns = inspect_source(con, source, label=source_label or source)
    install_transform_macros(con)
    source = _as_table(con, source)
    query = build_event_query(source, columns, config, now)
    events, rejects = qualified_name(events_table), qualified_name(rejects_table)

    stage("normalizing and building events")
    con.execute("BEGIN TRANSACTION")
    try:
        # One materialization: every row goes into the events table first, then the rejected
        # rows move out; the JSON (most of the bytes) is never copied or updated.
        query.set_lookups(con)
        con.execute(f"CREATE OR REPLACE TABLE {events} AS {query.sql}", query.parameters)
        _ensure_input_order(con, events)
        stage("removing in-run duplicates")
        _find_duplicates(con, events)
        stage("separating rejects")
        con.execute(
            f"CREATE OR REPLACE TABLE {rejects} AS "
            "SELECT source_row, event_id, coalesce(event_id, 'row ' || source_row) AS source_key, reason, detail, "
            f"partition_day FROM {events} WHERE reason IS NOT NULL "
            "UNION ALL "
            "SELECT source_row, event_id, event_id AS source_key, 'duplicate_in_run' AS reason, d.detail, partition_day "
            f"FROM {events} JOIN {DUPLICATES} AS d USING (source_row) "
            "ORDER BY source_row"
        )
        con.execute(
            f"DELETE FROM {events} WHERE reason IS NOT NULL OR source_row IN (SELECT source_row FROM {DUPLICATES})"
        )
        con.execute(f"DROP TABLE {DUPLICATES}")
        con.execute(f"ALTER TABLE {events} DROP COLUMN reason")
        con.execute(f"ALTER TABLE {events} DROP COLUMN detail")
        result = _summarize(con, events, rejects, events_table, rejects_table)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def _as_table(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """`source` itself when it is a table, else a temporary table copy of it.

    The event query numbers rows by `rowid`, the insertion order of a table, which a parallel
    scan keeps; numbering a view with `row_number() OVER ()` would run single-threaded.
    """
    relation = qualified_name(source)
    try:
        con.execute(f"SELECT rowid FROM {relation} LIMIT 0")
        return source
    except duckdb.BinderException:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {SOURCE_COPY} AS SELECT * FROM {relation}")
        return SOURCE_COPY


def _ensure_input_order(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Store the rows in `source_row` order, which delivery and the NDJSON file keep.

    DuckDB keeps insertion order through scans and projections, but not through joins; the
    event query avoids them (see `event_sql`), so this is a safeguard: checking costs one scan of
    two integer columns, and the wide rows are sorted only when a join slipped in.
    The rows of a table created in an open transaction are numbered from a large `rowid`, so the
    check is that `source_row - rowid` is the same on every row, not that it is 1.
    """
    (in_order,) = con.execute(
        f"SELECT coalesce(min(source_row - rowid) = max(source_row - rowid), true) FROM {table}"
    ).fetchone()
    if not in_order:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} ORDER BY source_row")


def _find_duplicates(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The first row of each (event_id, event_name) among the sendable rows wins; the later ones
    go into the temporary table `DUPLICATES` (source_row, detail naming the winning row), to
    become `duplicate_in_run` rejects. Only these few narrow rows are written: an UPDATE of the
    events table would rewrite its JSON column, which may be larger than memory.

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
        """
    )


def _summarize(
    con: duckdb.DuckDBPyConnection, events: str, rejects: str, events_table: str, rejects_table: str
) -> TransformResult:
    (event_count,) = con.execute(f"SELECT count(*) FROM {events}").fetchone()
    rejected = dict(
        con.execute(f"SELECT reason, count(*) FROM {rejects} GROUP BY reason ORDER BY count(*) DESC, reason").fetchall()
    )
    warnings = dict(
        con.execute(
            f"SELECT code, count(*) FROM (SELECT unnest(warnings) AS code FROM {events}) "
            "GROUP BY code ORDER BY count(*) DESC, code"
        ).fetchall()
    )
    return TransformResult(
        rows_in=event_count + sum(rejected.values()),
        events=event_count,
        rejected=rejected,
        warnings=warnings,
        events_table=events_table,
        rejects_table=rejects_table,
    )
