"""Where a delivery run keeps its ledger: the operations `deliver` needs, whatever the store.

A run stages its events, streams the chunks still to send, marks each chunk `in_flight` before its
request goes out and records each answer, then counts what is left. `DuckDBLedger` does that in the
pipeline's DuckDB database (the events table and the ledger side by side in one connection); the
PostgreSQL state keeps the ledger on the server and the events in the step's DuckDB connection
(`pinterest_pipeline.state.postgres_ledger`). `deliver` is written once against this protocol.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import duckdb
import numpy as np

from pinterest_pipeline.delivery import ledger
from pinterest_pipeline.delivery.chunks import EventChunk, stream_chunks
from pinterest_pipeline.delivery.ledger import LedgerScope, Staging


class LedgerStore(Protocol):
    """The ledger of one delivery run. Every method is called from one thread, in run order;
    `close` ends the run (and releases whatever the store holds for it)."""

    def stage(self, events_table: str, scope: LedgerScope, *, resend_failed: bool) -> Staging: ...

    def stream_chunks(
        self, events_table: str, scope: LedgerScope, *, resend_failed: bool, chunk_size: int
    ) -> Iterator[EventChunk]: ...

    def mark_in_flight(self, seqs: np.ndarray) -> None:
        """Committed before the request holding these events goes out."""

    def record_outcomes(
        self,
        seqs: np.ndarray,
        statuses: Sequence[str],
        errors: Sequence[str | None],
        warnings: Sequence[str | None],
        *,
        request_id: str | None,
        extra_attempts: int = 0,
    ) -> None: ...

    def count_unsettled(self, events_table: str, scope: LedgerScope) -> int: ...

    def close(self) -> None: ...


class DuckDBLedger:
    """The ledger table `delivery_ledger` in the same DuckDB database as the events."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def stage(self, events_table: str, scope: LedgerScope, *, resend_failed: bool) -> Staging:
        return ledger.stage(self.con, events_table, scope, resend_failed=resend_failed)

    def stream_chunks(
        self, events_table: str, scope: LedgerScope, *, resend_failed: bool, chunk_size: int
    ) -> Iterator[EventChunk]:
        return stream_chunks(self.con, events_table, scope, resend_failed=resend_failed, chunk_size=chunk_size)

    def mark_in_flight(self, seqs: np.ndarray) -> None:
        ledger.mark_in_flight(self.con, seqs)

    def record_outcomes(self, seqs, statuses, errors, warnings, *, request_id, extra_attempts=0) -> None:
        ledger.record_outcomes(
            self.con, seqs, statuses, errors, warnings, request_id=request_id, extra_attempts=extra_attempts
        )

    def count_unsettled(self, events_table: str, scope: LedgerScope) -> int:
        return ledger.count_unsettled(self.con, events_table, scope)

    def close(self) -> None:
        """Nothing to release: DuckDB's own file lock keeps other processes out of the whole database."""
