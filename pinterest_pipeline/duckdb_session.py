"""The DuckDB connection a command runs its work in: bounded memory, spilling to a temp directory.

An in-memory database keeps every table in RAM unless it has a memory limit and somewhere to
spill; with both, tables, sorts and joins larger than the limit move to temporary files, so a
partition of tens of millions of rows runs in constant memory (DESIGN §2, §10).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

MEMORY_LIMIT_ENV = "PINTEREST_PIPELINE_DUCKDB_MEMORY_LIMIT"
# DuckDB's own buffers; the process adds Python, the extensions, DuckDB's unmanaged memory and the
# Arrow batches of events on their way to the file (about 600-750 MB more at peak). Measured on a
# 10M-row day: 256 MB keeps the process under 1 GiB and costs about 6% of the speed of 768 MB.
DEFAULT_MEMORY_LIMIT = "256MB"


def memory_limit() -> str:
    """The DuckDB memory limit: `PINTEREST_PIPELINE_DUCKDB_MEMORY_LIMIT` (e.g. `4GB`) or 256MB."""
    return os.environ.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT


def apply_limits(con: duckdb.DuckDBPyConnection, spill_directory: str) -> None:
    """Bound `con`'s memory and let it spill into `spill_directory`."""
    con.execute("SET memory_limit = $limit", {"limit": memory_limit()})
    con.execute("SET temp_directory = $directory", {"directory": spill_directory})


@contextmanager
def bounded_connection(database: str = ":memory:") -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to `database` with the memory limit applied and a private spill directory
    under the system temp directory, removed (with anything spilled) when the block ends."""
    spill_directory = tempfile.mkdtemp(prefix="pinterest-pipeline-duckdb-")
    try:
        con = duckdb.connect(database)
        try:
            apply_limits(con, spill_directory)
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(spill_directory, ignore_errors=True)
