"""Run a packaged extract SQL (`sql/extract_*.sql`) for one time window against a DuckDB-file warehouse.

The general form, for any warehouse source and any SQL file, is
`pinterest_pipeline.warehouse.extract_window`; this module keeps the names older callers import.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from pinterest_pipeline.support.package_files import sql_path
from pinterest_pipeline.warehouse import WAREHOUSE_ALIAS, WarehouseSource, attach_warehouse, day_window
from pinterest_pipeline.warehouse import extract_window as extract_source_window

__all__ = ["WAREHOUSE_ALIAS", "attach_warehouse", "day_window", "extract_window"]


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
    """(Re)create `table` in `con` with the rows of the packaged `sql/<name>.sql` read from the
    DuckDB file `warehouse_path` for [start, end); return its row count (see
    `pinterest_pipeline.warehouse.extract_window`)."""
    source = WarehouseSource(path=str(warehouse_path))
    return extract_source_window(con, source, sql_path(f"{name}.sql"), start, end, table, temporary=temporary)
