"""Warehouses (docs/warehouses.md): where the extract SQL reads a day's rows from.

    from pinterest_pipeline.warehouse import WarehouseSource, extract_window

    source = WarehouseSource.parse({"adbc_driver": "postgresql"})   # URI in $PINTEREST_WAREHOUSE_URI
    rows = extract_window(con, source, Path("sql/postgresql/extract_orders.sql"), start, end, "extract_orders")

DuckDB-native sources (a DuckDB file, Parquet/CSV/JSON files, anything DuckDB attaches) run the
SQL in the pipeline's own DuckDB connection; ADBC sources run it in the warehouse and stream the
result in as Arrow. The engine's later steps see the same table either way.
"""

from pinterest_pipeline.warehouse.duckdb_native import attach_warehouse
from pinterest_pipeline.warehouse.extract import extract_window
from pinterest_pipeline.warehouse.source import DEFAULT_URI_ENV, WAREHOUSE_ALIAS, WarehouseError, WarehouseSource
from pinterest_pipeline.warehouse.window import day_window

__all__ = [
    "DEFAULT_URI_ENV",
    "WAREHOUSE_ALIAS",
    "WarehouseError",
    "WarehouseSource",
    "attach_warehouse",
    "day_window",
    "extract_window",
]
