"""Run the extract SQL (`sql/extract_*.sql`) for one time window against a read-only warehouse.

The warehouse is a DuckDB file attached READ_ONLY under the alias `warehouse`, so the extract can
read it but never write to it; the rows land in a table of the pipeline's own database.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pinterest_pipeline.errors import InputError
from pinterest_pipeline.support.package_files import read_sql
from pinterest_pipeline.support.sql_identifiers import quote_identifier

WAREHOUSE_ALIAS = "warehouse"


def day_window(day: date, tz: str) -> tuple[datetime, datetime]:
    """The half-open window [start, end) of local calendar `day` in IANA zone `tz`, as aware datetimes.

    A day is not always 24 hours: across a daylight-saving change it is 23 or 25, which adding
    `timedelta(days=1)` to an aware datetime would get wrong, so both ends are built from local midnight.
    """
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    # Round-trip through UTC so that a midnight that does not exist locally resolves to a real instant.
    return start.astimezone(timezone.utc).astimezone(zone), end.astimezone(timezone.utc).astimezone(zone)


def attach_warehouse(con: duckdb.DuckDBPyConnection, warehouse_path: str | Path) -> None:
    """Attach the warehouse READ_ONLY as `warehouse`, unless that exact file already is.

    A `warehouse` attached from another file, or writable, is detached and attached again, so that a
    long-lived connection follows a changed configuration and never writes to the warehouse.
    """
    path = Path(warehouse_path)
    if not path.is_file():
        raise InputError(f"warehouse {path} does not exist")
    attached = con.execute(
        "SELECT path, readonly FROM duckdb_databases() WHERE database_name = $alias",
        {"alias": WAREHOUSE_ALIAS},
    ).fetchone()
    if attached is not None:
        attached_path, readonly = attached
        if readonly and attached_path and Path(attached_path).resolve() == path.resolve():
            return
        con.execute(f"DETACH {WAREHOUSE_ALIAS}")
    try:
        con.execute(f"ATTACH $path AS {WAREHOUSE_ALIAS} (READ_ONLY)", {"path": str(path)})
    except duckdb.Error as exc:
        raise InputError(f"cannot open warehouse {path}: {exc}") from None


def extract_window(
    con: duckdb.DuckDBPyConnection,
    warehouse_path: str | Path,
    name: str,
    start: datetime,
    end: datetime,
    table: str,
    *,
    temporary: bool = False,
) -> int:
    """(Re)create `table` in `con` with the rows of `sql/<name>.sql` for [start, end); return its row count.

    With `temporary` the table is a TEMP one, for a caller that copies the rows into a table of its
    own: writing them into the database file twice would compress them twice.

    `start` and `end` must be timezone-aware. Running it again for the same window replaces the
    table with the same rows, so a re-materialized partition never doubles.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware datetimes")
    if not start < end:
        raise ValueError(f"empty window: start {start.isoformat()} is not before end {end.isoformat()}")
    attach_warehouse(con, warehouse_path)
    query = read_sql(f"{name}.sql").strip().rstrip(";")
    con.execute(
        f"CREATE OR REPLACE {'TEMP ' if temporary else ''}TABLE {quote_identifier(table)} AS\n{query}",
        {"window_start": start.astimezone(timezone.utc), "window_end": end.astimezone(timezone.utc)},
    )
    return con.execute(f"SELECT count(*) FROM {quote_identifier(table)}").fetchone()[0]
