"""The chunks a send reads: the events still to send, in source order, whichever way they are read.

`stream_chunks` reads the texts by one ordered scan when the events are stored in source order (as a
transform stores them) and falls back to sorting the wide rows otherwise. The cases pin both ways to
the same answer: the plan `send_plan_sql` describes, read with its ORDER BY.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pinterest_pipeline.delivery import ledger
from pinterest_pipeline.delivery.chunks import stream_chunks
from pinterest_pipeline.delivery.ledger import LedgerScope, Status, run_sql, send_plan_sql, sendable_statuses

ACCOUNT = "549755885175"
DAY_1, DAY_2 = date(2026, 11, 1), date(2026, 11, 2)


def _events(con: duckdb.DuckDBPyConnection, rows: list[tuple[date, int]]) -> None:
    """An events table holding one event per (partition_day, source_row), stored in the order given."""
    con.execute(
        "CREATE TABLE events (source_row BIGINT, event_id VARCHAR, event_name VARCHAR, partition_day DATE, event_json VARCHAR)"
    )
    for day, row in rows:
        con.execute(
            "INSERT INTO events VALUES ($row, $id, 'checkout', $day, $json)",
            {"row": row, "id": f"{day}-{row}", "day": day, "json": f'{{"event_id":"{day}-{row}"}}'},
        )


def _expected(con: duckdb.DuckDBPyConnection, scope: LedgerScope, resend_failed: bool) -> list[tuple[int, bytes]]:
    params = {**scope.params(), "sendable": list(sendable_statuses(resend_failed))}
    return [(seq, bytes(text)) for seq, text in run_sql(con, send_plan_sql("events", scope), params).fetchall()]


@pytest.mark.parametrize(
    ("stored", "delivered", "days", "chunk_size", "why"),
    [
        ([(DAY_1, row) for row in range(7)], [], None, 3, "stored in source order: read by one scan"),
        ([(DAY_1, row) for row in range(7)], [1, 2, 5], None, 2, "settled events inside the range are skipped"),
        ([(DAY_1, row) for row in (3, 0, 6, 1, 5, 2, 4)], [], None, 3, "stored out of order: sorted"),
        ([(DAY_1, 0), (DAY_1, 1), (DAY_2, 0), (DAY_2, 1), (DAY_1, 2)], [], [DAY_1], 2,
         "one day among others: the other day's rows in the range are skipped"),
        ([(DAY_1, 0), (DAY_1, 2), (DAY_2, 1), (DAY_2, 3)], [], None, 3, "two days interleaved by source row: sorted"),
    ],
)
def test_stream_chunks_reads_the_plan_in_source_order(stored, delivered, days, chunk_size, why):
    con = duckdb.connect()
    _events(con, stored)
    scope = LedgerScope(ACCOUNT, False, tuple(days) if days else None)
    ledger.stage(con, "events", scope, resend_failed=False)
    seqs = [seq for (seq,) in con.execute("SELECT seq FROM delivery_ledger ORDER BY seq").fetchall()]
    for index in delivered:
        ledger.record_outcomes(con, [seqs[index]], [Status.DELIVERED], [None], [None], request_id="r")
    expected = _expected(con, scope, resend_failed=False)

    chunks = list(stream_chunks(con, "events", scope, resend_failed=False, chunk_size=chunk_size))

    read = [(int(seq), text) for chunk in chunks for seq, text in zip(chunk.seqs, chunk.events.to_pylist())]
    assert read == expected, why
    assert [len(chunk) for chunk in chunks[:-1]] == [chunk_size] * (len(chunks) - 1)
