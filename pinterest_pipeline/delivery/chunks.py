"""Request bodies, streamed from DuckDB in source order (docs/architecture.md).

Each event's JSON is the exact text the transform built; a body is those texts joined by commas
inside `{"data":[...]}`, so no event is parsed, serialized or even copied one by one on the way
out. Events are read as Arrow record batches from a cursor of their own, so at most one batch and
one chunk per request in flight are held in memory, however many events the partition has.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from pinterest_pipeline.delivery.ledger import (
    LEDGER_TABLE,
    LedgerScope,
    run_sql_relation,
    send_plan_sql,
    sendable_statuses,
)
from pinterest_pipeline.support.arrow_bytes import concatenated_bytes
from pinterest_pipeline.support.sql_identifiers import qualified_name

_BODY_START = b'{"data":['
_BODY_END = b"]}"

# Rows per Arrow batch read from DuckDB: large enough to amortize the read, small enough to stay a
# few megabytes (events are about 1 KB).
READ_BATCH_ROWS = 8192


@dataclass(frozen=True)
class EventChunk:
    """Events sent in one request, in source order: their ledger `seq`s and their JSON texts, each
    followed by a comma (as `send_plan_sql` reads them), in one Arrow array. A body is then one
    slice of that array's buffer, and a half of a chunk one slice of the array: no event becomes a
    Python object on the way out."""

    seqs: np.ndarray
    events: pa.Array

    def __len__(self) -> int:
        return len(self.seqs)

    def body(self) -> bytes:
        texts = concatenated_bytes(self.events)
        return b"".join((_BODY_START, texts[:-1], _BODY_END))  # the last event's comma dropped

    def halves(self) -> tuple[EventChunk, EventChunk]:
        middle = (len(self) + 1) // 2
        return (
            EventChunk(self.seqs[:middle], self.events.slice(0, middle)),
            EventChunk(self.seqs[middle:], self.events.slice(middle)),
        )


def chunk_record_batches(batches: Iterable[pa.RecordBatch], chunk_size: int) -> Iterator[EventChunk]:
    """Regroup batches of (seq, event_json bytes) rows into chunks of exactly `chunk_size` (the last smaller)."""
    seqs: list[np.ndarray] = []
    events: list[pa.Array] = []
    held = 0
    for batch in batches:
        batch_seqs, batch_events = batch.column(0).to_numpy(), batch.column(1)
        start = 0
        while start < batch.num_rows:
            take = min(chunk_size - held, batch.num_rows - start)
            seqs.append(batch_seqs[start : start + take])
            events.append(batch_events.slice(start, take))
            held, start = held + take, start + take
            if held == chunk_size:
                yield EventChunk(np.concatenate(seqs), pa.concat_arrays(events))
                seqs, events, held = [], [], 0
    if held:
        yield EventChunk(np.concatenate(seqs), pa.concat_arrays(events))


def stream_chunks(
    con: duckdb.DuckDBPyConnection,
    events_table: str,
    scope: LedgerScope,
    *,
    resend_failed: bool,
    chunk_size: int,
    ledger_table: str = LEDGER_TABLE,
) -> Iterator[EventChunk]:
    """The chunks still to send for `scope`, read through a cursor so `con` stays free for ledger writes.

    `ledger_table`: the ledger in `con`, or a copy of the scope's ledger rows taken when they were staged.

    The send order is worked out on narrow rows first (each event's `rowid` and ledger `seq`, by
    `source_row`). When it is the order the events are stored in, as after every transform, the
    texts are then read by one ordered scan of the table and the first chunk is ready at once; a
    sort of the wide rows would hold the whole day's JSON in memory (2 GB for 1M events) before
    the first request. The cursor reads in one transaction, so the rowids cannot be renumbered by
    a checkpoint between the two reads. A view of the events (a day staged from a state) has no
    rowids: its rows are read in the sorted plan's order.
    """
    cursor = con.cursor()
    try:
        cursor.execute("BEGIN TRANSACTION")
        params = {**scope.params(), "sendable": list(sendable_statuses(resend_failed))}
        batches = None
        if _is_table(cursor, events_table):
            plan = run_sql_relation(cursor, _send_order_sql(events_table, scope, ledger_table), params).fetchnumpy()
            rowids, seqs = plan["event_rowid"], plan["seq"]
            if len(rowids) and bool(np.all(np.diff(rowids) > 0)):
                batches = _events_by_rowid(cursor, events_table, rowids, seqs)
        if batches is None:
            plan_sql = send_plan_sql(events_table, scope, ledger_table)
            batches = run_sql_relation(cursor, plan_sql, params).to_arrow_reader(READ_BATCH_ROWS)
        yield from chunk_record_batches(batches, chunk_size)
    finally:
        cursor.close()


def _is_table(cursor: duckdb.DuckDBPyConnection, events_table: str) -> bool:
    """Whether `events_table` is a base table (with rowids), not a view."""
    found = cursor.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name", {"name": events_table.split(".")[-1]}
    ).fetchall()
    return bool(found[0][0])


def _send_order_sql(events_table: str, scope: LedgerScope, ledger_table: str) -> str:
    """`send_plan_sql`'s rows and order, without the texts: each event's `rowid` and `seq`."""
    return f"""
        SELECT e.rowid AS event_rowid, l.seq
        FROM {qualified_name(events_table)} e JOIN {ledger_table} l
          ON l.event_id = e.event_id AND l.event_name = e.event_name
        WHERE l.ad_account_id = $account AND l.test = $test
          AND list_contains($sendable, l.status) AND {scope.day_filter('e')}
        ORDER BY e.source_row, e.rowid
    """


def _events_by_rowid(
    cursor: duckdb.DuckDBPyConnection, events_table: str, rowids: np.ndarray, seqs: np.ndarray
) -> Iterator[pa.RecordBatch]:
    """Batches of (seq, event_json bytes + comma) of the rows `rowids` (increasing), by one ordered scan."""
    reader = cursor.sql(
        f"SELECT rowid, encode(event_json || ',') AS event_json FROM {qualified_name(events_table)} "
        "WHERE rowid BETWEEN $first AND $last",
        params={"first": int(rowids[0]), "last": int(rowids[-1])},
    ).to_arrow_reader(READ_BATCH_ROWS)
    for batch in reader:
        scanned = batch.column(0).to_numpy()
        places = np.minimum(np.searchsorted(rowids, scanned), len(rowids) - 1)
        wanted = rowids[places] == scanned  # rows of the range that are settled, or of other days, are skipped
        if wanted.any():
            yield pa.record_batch([pa.array(seqs[places[wanted]]), batch.column(1).filter(pa.array(wanted))],
                                  names=["seq", "event_json"])
