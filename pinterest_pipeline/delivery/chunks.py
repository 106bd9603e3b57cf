"""Request bodies, streamed from DuckDB in source order (DESIGN §2 "streaming, bounded memory").

Each event's JSON is the exact text the transform built; a body is those texts joined by commas
inside `{"data":[...]}`, so no event is parsed or serialized again on the way out. Events are read as
Arrow record batches from a cursor of their own, so at most one batch and one chunk per request in
flight are held in memory, however many events the partition has.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from pinterest_pipeline.delivery.ledger import LedgerScope, run_sql_relation, send_plan_sql, sendable_statuses

_BODY_START = b'{"data":['
_BODY_END = b"]}"

# Rows per Arrow batch read from DuckDB: large enough to amortize the read, small enough to stay a
# few megabytes (events are about 1 KB).
READ_BATCH_ROWS = 8192


@dataclass(frozen=True)
class EventChunk:
    """Events sent in one request: their ledger `seq`s and their JSON texts, in source order."""

    seqs: list[int]
    events: list[bytes]

    def __len__(self) -> int:
        return len(self.seqs)

    def body(self) -> bytes:
        return _BODY_START + b",".join(self.events) + _BODY_END

    def halves(self) -> tuple[EventChunk, EventChunk]:
        middle = (len(self) + 1) // 2
        return (
            EventChunk(self.seqs[:middle], self.events[:middle]),
            EventChunk(self.seqs[middle:], self.events[middle:]),
        )


def chunk_record_batches(batches: Iterable[pa.RecordBatch], chunk_size: int) -> Iterator[EventChunk]:
    """Regroup batches of (seq, event_json bytes) rows into chunks of exactly `chunk_size` (the last smaller)."""
    seqs: list[int] = []
    events: list[bytes] = []
    for batch in batches:
        seqs.extend(batch.column(0).to_pylist())
        events.extend(batch.column(1).to_pylist())
        while len(seqs) >= chunk_size:
            yield EventChunk(seqs[:chunk_size], events[:chunk_size])
            del seqs[:chunk_size], events[:chunk_size]
    if seqs:
        yield EventChunk(seqs, events)


def stream_chunks(
    con: duckdb.DuckDBPyConnection, events_table: str, scope: LedgerScope, *, resend_failed: bool, chunk_size: int
) -> Iterator[EventChunk]:
    """The chunks still to send for `scope`, read through a cursor so `con` stays free for ledger writes."""
    cursor = con.cursor()
    try:
        relation = run_sql_relation(
            cursor,
            send_plan_sql(events_table, scope),
            {**scope.params(), "sendable": list(sendable_statuses(resend_failed))},
        )
        yield from chunk_record_batches(relation.to_arrow_reader(READ_BATCH_ROWS), chunk_size)
    finally:
        cursor.close()
