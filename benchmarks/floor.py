"""The floor of a transform: what the least a transform must do costs on this machine.

    python benchmarks/floor.py DAY.parquet OUT.ndjson

It does the work every transform of these rows shares and nothing else: DuckDB reads the input,
hashes the raw identity values with `sha256` (no normalization, no rules, no checks), joins them
with the event's other raw fields into one line of about 1 KB per row with a single `concat`, and
streams the lines into a file through the same writer as `pinterest-pipeline transform` (the same
bounded connection, stream buffer, Arrow batches and one `write` per batch). The benchmark runs it
as a child process, start-up included, like the CLI transform it is compared with.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The identity columns of the contract (docs/rules.md) that a transform hashes; `maid` is a list.
HASHED_COLUMNS = (
    "email", "phone", "first_name", "last_name", "gender", "date_of_birth",
    "city", "state", "zip", "country", "external_id",
)
# Raw fields carried into the line beside the digests, so it is as long as an event (~1 KB).
PLAIN_COLUMNS = (
    "event_id", "event_name", "action_source", "client_ip_address", "client_user_agent",
    "event_source_url", "currency", "order_id",
)


def floor_query(source: str) -> str:
    """One line per row of `source`: the digests and the plain fields, comma-separated, newline-ended."""
    parts = [f"sha256(coalesce({column}, ''))" for column in HASHED_COLUMNS]
    parts.append("sha256(coalesce(CAST(maid AS VARCHAR), ''))")
    parts += [f"coalesce({column}, '')" for column in PLAIN_COLUMNS]
    parts += ["CAST(epoch(event_time) AS BIGINT)", "coalesce(CAST(value AS VARCHAR), '')"]
    pieces = ", ',', ".join(parts)
    return f"SELECT concat({pieces}, chr(10)) AS line FROM {source}"


def write_floor(input_path: Path, out_path: Path) -> int:
    """Write the floor's lines of `input_path` (Parquet) into `out_path`; returns the lines written."""
    from pinterest_pipeline.support.arrow_bytes import concatenated_bytes
    from pinterest_pipeline.support.duckdb_session import bounded_connection
    from pinterest_pipeline.transform.ndjson_output import BATCH_ROWS, STREAM_BUFFER

    written = 0
    with bounded_connection() as con, open(out_path, "wb") as out:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET streaming_buffer_size = '{STREAM_BUFFER}'")
        source = "read_parquet($path)"
        reader = con.sql(floor_query(source), params={"path": str(input_path)}).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            out.write(concatenated_bytes(batch.column("line")))
            written += batch.num_rows
    return written


if __name__ == "__main__":
    lines = write_floor(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{lines} lines")
