"""Writing a transform as NDJSON files, all or nothing (the CLI's `transform`).

EVENTS.ndjson holds one event object per line exactly as it is sent; REJECTS.ndjson one object per
rejected row. The events query streams into the file as Arrow batches of newline-ended JSON texts,
whose bytes are written as they are (one `write` per batch, no per-row Python). Both
files are written to temporary files beside their targets and renamed into place only when both
are complete, so an error leaves nothing partial.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pinterest_pipeline.errors import PipelineError
from pinterest_pipeline.support.arrow_bytes import concatenated_bytes
from pinterest_pipeline.support.sql_identifiers import qualified_name
from pinterest_pipeline.transform.tables import CheckedRows

# Events per Arrow batch read from the query: large enough that a write is one big system call,
# small enough that a batch's JSON (about a kilobyte per event) keeps the process well inside its
# memory budget (a batch four times larger cost much more memory at peak, for no speed; see
# benchmarks/ to measure it again).
BATCH_ROWS = 25_000

# How far the query may run ahead of the writer. With DuckDB's default (10 MiB, not half a batch
# of events) its threads wait whenever this process converts or writes a batch; 128 MiB keeps
# them busy, for a little more memory at peak (measured by benchmarks/).
STREAM_BUFFER = "128MB"

# Each row is one already-serialized JSON document: written verbatim, one per line.
_VERBATIM_LINES = "(FORMAT csv, QUOTE '', ESCAPE '', HEADER false)"


def write_transform_files(
    con: duckdb.DuckDBPyConnection,
    checked: CheckedRows,
    events_path: Path,
    rejects_path: Path,
    *,
    on_progress: Callable[[float], None] | None = None,
) -> dict[str, int]:
    """Write the events of `checked` and its rejects table (also when either is empty), replacing
    the files only once both are written. Returns the events' warning counts by code, most
    frequent first. `on_progress` is called with the share of input rows written so far."""
    targets = [Path(events_path), Path(rejects_path)]
    temporaries = [target.with_name(f".{target.name}.{os.getpid()}.tmp") for target in targets]
    try:
        with open(temporaries[0], "wb") as out:
            warnings = _stream_events(con, checked, out, on_progress or (lambda _share: None))
        checked.drop(con)
        _copy_lines(con, _rejects_sql(checked.rejects_table), temporaries[1])
        for temporary, target in zip(temporaries, targets):
            os.replace(temporary, target)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
    return dict(sorted(warnings.items(), key=lambda item: (-item[1], item[0])))


def write_table_files(
    con: duckdb.DuckDBPyConnection, events_table: str, rejects_table: str, events_path: Path, rejects_path: Path
) -> None:
    """The files of `write_transform_files`, from a transform's events and rejects tables (when the
    day was also stored in the pipeline state), replaced only once both are written."""
    targets = [Path(events_path), Path(rejects_path)]
    temporaries = [target.with_name(f".{target.name}.{os.getpid()}.tmp") for target in targets]
    try:
        _copy_lines(con, f"SELECT event_json FROM {qualified_name(events_table)} ORDER BY source_row", temporaries[0])
        _copy_lines(con, _rejects_sql(rejects_table), temporaries[1])
        for temporary, target in zip(temporaries, targets):
            os.replace(temporary, target)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def _rejects_sql(rejects_table: str) -> str:
    return (
        "SELECT CAST(to_json(struct_pack(event_id := event_id, source_key := source_key, reason := reason, "
        "detail := detail, source_row := source_row, partition_day := partition_day)) AS VARCHAR) "
        f"FROM {qualified_name(rejects_table)} ORDER BY source_row"
    )


def _stream_events(
    con: duckdb.DuckDBPyConnection, checked: CheckedRows, out: BinaryIO, on_progress: Callable[[float], None]
) -> Counter[str]:
    sql, parameters = checked.event_query(line_terminated=True)
    # The in-run duplicates are few: their rows are left out of each batch on the way to the file.
    duplicate_rows = con.execute(f"SELECT source_row FROM {checked.duplicates_table}").fetchnumpy()["source_row"]
    (buffer_size,) = con.execute("SELECT current_setting('streaming_buffer_size')").fetchone()
    con.execute(f"SET streaming_buffer_size = '{STREAM_BUFFER}'")
    try:
        relation = con.sql(f"SELECT source_row, event_json, warnings FROM ({sql})", params=parameters)
        reader = relation.to_arrow_reader(BATCH_ROWS)
        return _write_batches(reader, duplicate_rows, checked, out, on_progress)
    finally:
        con.execute("SET streaming_buffer_size = $size", {"size": buffer_size})


def _write_batches(
    reader: pa.RecordBatchReader,
    duplicate_rows: np.ndarray,
    checked: CheckedRows,
    out: BinaryIO,
    on_progress: Callable[[float], None],
) -> Counter[str]:
    warnings: Counter[str] = Counter()
    written, last_row = 0, 0
    for batch in reader:
        source_rows = batch.column("source_row").to_numpy()
        if not len(source_rows):
            continue
        # Delivery and readers rely on input order; the query only scans, filters and projects,
        # which keeps it, and this makes sure no reordering ever reaches the file.
        if source_rows[0] <= last_row or np.any(np.diff(source_rows) <= 0):
            raise PipelineError("internal error: events came out of input order")
        last_row = int(source_rows[-1])
        if len(duplicate_rows):
            batch = batch.filter(pa.array(~np.isin(source_rows, duplicate_rows)))
        out.write(concatenated_bytes(batch.column("event_json")))
        written += batch.num_rows
        codes = pc.list_flatten(batch.column("warnings"))
        if len(codes):
            for entry in pc.value_counts(codes).to_pylist():
                warnings[entry["values"]] += entry["counts"]
        on_progress(min(last_row / max(checked.rows_in, 1), 1.0))
    if written != checked.events:
        raise PipelineError(f"internal error: wrote {written} events of {checked.events}")
    return warnings


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
