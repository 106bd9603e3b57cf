"""Writing the transform's tables as NDJSON files, by DuckDB, all or nothing (DESIGN §8).

EVENTS.ndjson holds one event object per line exactly as it is sent (the stored `event_json`);
REJECTS.ndjson one object per rejected row. Both are written to temporary files beside their
targets and renamed into place only when both are complete, so an error leaves nothing partial.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from pinterest_pipeline.sources import qualified_name

# Each row is one already-serialized JSON document: written verbatim, one per line.
_VERBATIM_LINES = "(FORMAT csv, QUOTE '', ESCAPE '', HEADER false)"


def _copy_lines(con: duckdb.DuckDBPyConnection, select_sql: str, path: Path) -> None:
    """Write the rows in their stored order with one thread. In parallel, DuckDB keeps the order by
    holding finished batches in memory (a 256 MiB buffer at a time), which fails under a memory
    limit; a single thread reads and writes the rows in order as they come."""
    (threads,) = con.execute("SELECT current_setting('threads')").fetchone()
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(f"COPY ({select_sql}) TO $path {_VERBATIM_LINES}", {"path": str(path)})
    finally:
        con.execute("RESET preserve_insertion_order")
        con.execute(f"SET threads = {int(threads)}")


def write_outputs(
    con: duckdb.DuckDBPyConnection, events_table: str, rejects_table: str, events_path: Path, rejects_path: Path
) -> None:
    """Write both files (also when a table is empty), replacing them only once both are written."""
    targets = [Path(events_path), Path(rejects_path)]
    temporaries = [target.with_name(f".{target.name}.{os.getpid()}.tmp") for target in targets]
    try:
        _copy_lines(con, f"SELECT event_json FROM {qualified_name(events_table)}", temporaries[0])
        _copy_lines(
            con,
            "SELECT CAST(to_json(struct_pack(event_id := event_id, source_key := source_key, reason := reason, "
            "detail := detail, source_row := source_row, partition_day := partition_day)) AS VARCHAR) "
            f"FROM {qualified_name(rejects_table)} ORDER BY source_row",
            temporaries[1],
        )
        for temporary, target in zip(temporaries, targets):
            os.replace(temporary, target)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
