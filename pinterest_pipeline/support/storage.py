"""How the pipeline database stores the event texts it keeps between transform and send.

DuckDB's automatic choice for a text column is dictionary + FSST compression. For event JSON,
where every line is unique and a third of it is hex digests, that is the costliest part of staging
a day; zstd writes it several times faster into about a third of the space, and reads it back
faster too (benchmarks/ measures it). The repeated digests of a day (country, state, the common
names) are exactly what zstd's matching finds.

DuckDB writes zstd-compressed text only into files of storage version 1.2 or later (the default
of files DuckDB 2 creates; DuckDB 1.x creates v1.0 files unless told otherwise). In an older file,
a column asking for zstd is refused or stored uncompressed, so there the texts keep DuckDB's choice.
"""

from __future__ import annotations

import re

import duckdb

from pinterest_pipeline.support.sql_identifiers import quote_identifier

# Columns holding whole event texts, in every table that stages events for delivery.
EVENT_TEXT_COLUMNS = frozenset({"event_json"})

_ZSTD_TEXT_SINCE = (1, 2)


def column_definitions(con: duckdb.DuckDBPyConnection, columns: dict[str, str]) -> str:
    """The DDL of `columns` (name -> type) for a new table in `con`'s current database, the event
    texts stored with zstd where that database's file can hold it."""
    zstd = _stores_zstd_text(con)
    return ", ".join(
        f"{quote_identifier(name)} {kind}" + (" USING COMPRESSION zstd" if zstd and name in EVENT_TEXT_COLUMNS else "")
        for name, kind in columns.items()
    )


def _stores_zstd_text(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    # e.g. {'storage_version': 'v2.0.0+'}; an in-memory database has no storage version.
    version = re.match(r"v(\d+)\.(\d+)", ((row[0] if row else None) or {}).get("storage_version", ""))
    return version is not None and (int(version[1]), int(version[2])) >= _ZSTD_TEXT_SINCE
