"""The pipeline database's per-day tables that the assets write, and how a day is replaced.

Every row is owned by the partition day that read it. Writing a day is delete-then-insert in one
transaction, so re-materializing a partition (a retry, a re-run, an overlapping backfill) replaces
exactly what that day wrote before and never duplicates a row.

These functions work on one DuckDB database: the pipeline's DuckDB file, or the step's own
connection into which a PostgreSQL state copied the days it reads (`pinterest_pipeline.state`).

Tables (the delivery ledger `delivery_ledger` lives in the same store and belongs to the engine):
- one per extract, named as the extract (by default `extract_orders`, `extract_events`): contract
  rows as the extract SQL returned them, plus `partition_day`;
- `pinterest_events`, `pinterest_rejects`: the transform's output, columns as in the engine's contract;
- `conversion_transforms`: per day, the clock and age limits the transform used, so checks can re-use them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime

import duckdb

from pinterest_pipeline.errors import PipelineError
from pinterest_pipeline.support.sql_identifiers import quote_identifier
from pinterest_pipeline.support.storage import column_definitions
from pinterest_pipeline.transform.sources import POSITION_COLUMN

# Named like the extract assets and their SQL files (sql/extract_orders.sql...).
EXTRACT_TABLES = ("extract_orders", "extract_events")
EVENTS_TABLE = "pinterest_events"
REJECTS_TABLE = "pinterest_rejects"
TRANSFORMS_TABLE = "conversion_transforms"

# Rows of some partition days, `$days` (a DATE list), or of all days when it is NULL.
_DAY_FILTER = "($days::DATE[] IS NULL OR list_contains($days::DATE[], partition_day))"

_TRANSFORMS_DDL = f"""
CREATE TABLE IF NOT EXISTS {TRANSFORMS_TABLE} (
    partition_day DATE PRIMARY KEY,
    transformed_at TIMESTAMPTZ NOT NULL,
    max_event_age_s BIGINT NOT NULL,
    max_future_skew_s BIGINT NOT NULL
)
"""


def replace_day(con: duckdb.DuckDBPyConnection, table: str, staged: str, day: date) -> None:
    """Replace `day`'s rows of `table` with all rows of the `staged` table, tagged `partition_day = day`
    (call it inside `transaction`).

    The first write creates `table` from `staged`'s columns; a column the source gains later (an
    edited extract SQL) is added, and older days read it as NULL.
    """
    _ensure_table_like(con, table, staged)
    con.execute(f"DELETE FROM {table} WHERE partition_day = $day", {"day": day})
    con.execute(
        f"INSERT INTO {table} BY NAME SELECT * REPLACE ($day::DATE AS partition_day) FROM {staged}"
        if "partition_day" in _columns(con, staged)
        else f"INSERT INTO {table} BY NAME SELECT $day::DATE AS partition_day, * FROM {staged}",
        {"day": day},
    )


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All writes of one day commit together: a crash never leaves a day half replaced."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def record_transform(
    con: duckdb.DuckDBPyConnection, day: date, now: datetime, max_event_age_s: int, max_future_skew_s: int
) -> None:
    """Remember the clock and limits `day` was transformed with (for the `event_time_window` check)."""
    con.execute(_TRANSFORMS_DDL)
    con.execute(
        f"INSERT OR REPLACE INTO {TRANSFORMS_TABLE} VALUES ($day, $now, $age, $skew)",
        {"day": day, "now": now, "age": max_event_age_s, "skew": max_future_skew_s},
    )


def stage_day_source(
    con: duckdb.DuckDBPyConnection, day: date, view: str, extract_tables: Sequence[str] = EXTRACT_TABLES
) -> None:
    """Create temp view `view` over the extracts' rows of `day` (contract columns only), each row
    with its 0-based place in the day as `POSITION_COLUMN`: the first extract's rows in their
    extract order, then the next one's (by default the orders, then the events).

    The extracts may have different columns: `UNION ALL BY NAME` fills the missing ones with NULL.
    An extract that has never run contributes nothing.

    A day's rows of an extract table were inserted by one statement, so their rowids run in extract
    order (vacuuming deleted days keeps that order). Placing them by rowid lets the transform scan
    the compressed tables twice instead of copying the day into memory first (cheaper too, as the
    scans keep DuckDB's dictionary vectors). The offsets are
    subqueries, read in the same snapshot as the rows: a checkpoint between two reads may renumber
    the rowids, never the places.
    """
    literal = f"DATE '{day.isoformat()}'"  # a `date`, never user text: a view cannot hold bound parameters
    parts, offset = [], "0"
    for table in extract_tables:
        if not table_exists(con, table):
            continue
        table = quote_identifier(table)
        of_day = f"FROM {table} WHERE partition_day = {literal}"
        first = f"(SELECT min(rowid) {of_day})"
        parts.append(f"SELECT * EXCLUDE (partition_day), rowid - {first} + {offset} AS {POSITION_COLUMN} {of_day}")
        # The next extract's places start after this one's last (also if its rowids had a gap).
        offset = f"{offset} + coalesce((SELECT max(rowid) - min(rowid) + 1 {of_day}), 0)"
    if not parts:
        raise PipelineError(f"no extract has been materialized yet: materialize {' and '.join(extract_tables)} first")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS " + " UNION ALL BY NAME ".join(parts))


def extracted_rows(
    con: duckdb.DuckDBPyConnection, days: list[date] | None, extract_tables: Sequence[str] = EXTRACT_TABLES
) -> int:
    """Rows the extracts read on `days` (None: every day)."""
    return sum(
        con.execute(f"SELECT count(*) FROM {quote_identifier(table)} WHERE {_DAY_FILTER}", {"days": days}).fetchone()[0]
        for table in extract_tables
        if table_exists(con, table)
    )


def rejects_by_reason(con: duckdb.DuckDBPyConnection, days: list[date] | None) -> dict[str, int]:
    """Rows the transform rejected before any request, per reason, over `days` (None: every day)."""
    if not table_exists(con, REJECTS_TABLE):
        return {}
    rows = con.execute(
        f"SELECT reason, count(*) FROM {REJECTS_TABLE} WHERE {_DAY_FILTER} GROUP BY reason", {"days": days}
    ).fetchall()
    return dict(rows)


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name AND database_name = current_database()",
            {"name": table},
        ).fetchone()[0]
    )


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {name: str(kind) for name, kind, *_ in con.execute(f"DESCRIBE {relation}").fetchall()}


def _ensure_table_like(con: duckdb.DuckDBPyConnection, table: str, staged: str) -> None:
    staged_columns = _columns(con, staged)
    if not table_exists(con, table):
        columns = staged_columns if "partition_day" in staged_columns else {"partition_day": "DATE", **staged_columns}
        con.execute(f"CREATE TABLE {table} ({column_definitions(con, columns)})")
        return
    existing = _columns(con, table)
    for name, kind in staged_columns.items():
        if name not in existing:
            con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {kind}')
