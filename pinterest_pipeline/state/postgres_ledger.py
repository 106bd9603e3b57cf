"""The delivery ledger on a PostgreSQL server, safe for concurrent senders (docs/delivery.md, docs/state.md).

Senders of the same (ad account, mode, day) take turns: before staging, a run takes a
session-level advisory lock per day it sends (`pg_advisory_lock`, days in order, so two runs with
overlapping days never deadlock) on a connection of its own, and holds them until it ends. A second
sender waits on the lock, then stages the same events, finds them settled and sends nothing.

Why locks rather than row claims (`FOR UPDATE SKIP LOCKED`): the ledger already says everything
about an event (`in_flight` is committed before its request goes out, its answer right after), so
the only thing to arbitrate is who may send a day now. A session-level lock does exactly that and
no more, and the server releases it when the holder's connection dies: a sender killed at any point
(kill -9, a lost machine) leaves its lock to the next one at once, and its `in_flight` events to be
re-sent with the same event_id, as §5 states. Claims would put a claim column and its updates on
every row, and a claim left by a dead sender would need a timeout before anyone could take it over.

Work is split the way the state splits it: the events are in the run's DuckDB connection; their keys
go to the server once (binary COPY into a temp table), the ledger rows are inserted there in one
statement, and a copy of the scope's rows comes back to DuckDB to plan the send. Each chunk's
`in_flight` mark and its answer are single UPDATE statements on the server, committed at once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from datetime import date

import duckdb
import numpy as np

from pinterest_pipeline.delivery import ledger
from pinterest_pipeline.delivery.accounting import (
    STATUS_COUNTS_SQL,
    DeliveryAccounting,
    LedgerDaySummary,
    account_events,
)
from pinterest_pipeline.delivery.chunks import EventChunk, stream_chunks
from pinterest_pipeline.delivery.ledger import LEDGER_TABLE, LedgerScope, Staging, Status
from pinterest_pipeline.state.postgres_connection import PostgresLocation
from pinterest_pipeline.state.postgres_tables import DDL_LOCK_KEY, bulk_transaction
from pinterest_pipeline.support.sql_identifiers import qualified_name

logger = logging.getLogger("pinterest_pipeline.state")

# In the run's DuckDB connection: the scope's ledger rows, as staged.
LEDGER_COPY = "pp_ledger_rows"
# On the server, in the run's session: the keys of the events the run considers.
_KEYS = "pp_send_keys"

_LEDGER_DDL = f"""
CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    seq bigserial NOT NULL UNIQUE,
    ad_account_id text NOT NULL,
    event_id text NOT NULL,
    event_name text NOT NULL,
    test boolean NOT NULL,
    partition_day date,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    warning text,
    request_id text,
    first_sent_at timestamptz,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (ad_account_id, test, event_id, event_name)
) WITH (fillfactor = 70)
"""
# fillfactor 70: a row's status updates (in_flight, then its answer) fit on its page, so they are
# HOT updates that touch no index.


def ensure_ledger(bulk) -> None:
    with bulk_transaction(bulk) as cursor:
        cursor.execute("SELECT to_regclass($1) IS NOT NULL", (LEDGER_TABLE,))
        if cursor.fetchone()[0]:
            return
        cursor.execute("SELECT pg_advisory_xact_lock($1)", (DDL_LOCK_KEY,))
        cursor.execute(_LEDGER_DDL)


def ledger_exists(bulk) -> bool:
    with bulk_transaction(bulk) as cursor:
        cursor.execute("SELECT to_regclass($1) IS NOT NULL", (LEDGER_TABLE,))
        return bool(cursor.fetchone()[0])


def send_lock_key(ad_account_id: str, test: bool, day: date | None) -> int:
    """The advisory lock key of one (ad account, mode, day): 64 bits of a hash, signed as PostgreSQL's bigint."""
    digest = hashlib.blake2b(f"pinterest-pipeline send {ad_account_id} {test} {day}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def upload_keys(bulk, con: duckdb.DuckDBPyConnection, events_table: str, scope: LedgerScope) -> None:
    """The scope's event keys, in source order, into the temp table `pp_send_keys` of `bulk`'s session."""
    reader = ledger.run_sql_relation(
        con,
        f"""SELECT source_row, event_id, event_name, partition_day FROM {qualified_name(events_table)} e
            WHERE {scope.day_filter("e")} ORDER BY source_row""",
        scope.params(),
    ).to_arrow_reader(65536)
    with bulk_transaction(bulk) as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_KEYS}")
        cursor.adbc_ingest(_KEYS, reader, mode="create", temporary=True)


def copy_ledger_rows(bulk, con: duckdb.DuckDBPyConnection, scope: LedgerScope) -> None:
    """The ledger rows of the uploaded keys, into `pp_ledger_rows` in `con`."""
    with bulk_transaction(bulk) as cursor:
        cursor.execute(
            f"""SELECT l.seq, l.ad_account_id, l.event_id, l.event_name, l.test, l.status
                FROM {_KEYS} k JOIN {LEDGER_TABLE} l
                  ON l.ad_account_id = $1 AND l.test = $2
                 AND l.event_id = k.event_id AND l.event_name = k.event_name""",
            (scope.ad_account_id, scope.test),
        )
        rows = cursor.fetch_arrow_table()
    con.register("pp_ledger_arrow", rows)
    try:
        # A table of the step's own in-memory database, not TEMP: the send plan reads it from a cursor of its own.
        con.execute(f"CREATE OR REPLACE TABLE {LEDGER_COPY} AS SELECT * FROM pp_ledger_arrow")
    finally:
        con.unregister("pp_ledger_arrow")


class PostgresLedger:
    """`LedgerStore` of one delivery run against the server's `delivery_ledger`."""

    def __init__(self, location: PostgresLocation, bulk, con: duckdb.DuckDBPyConnection) -> None:
        self.location = location
        self.bulk = bulk  # the session's ADBC connection: keys and copies in bulk
        # A DuckDB connection of the run's own (as the send plan has): the caller's `con` may hold an
        # unfinished result. It sees the events table, which the send plan's cursor must see anyway.
        self.con = con.cursor()
        self._updates = location.connect()  # psycopg, autocommit: one committed statement per chunk
        self._locks = None

    def stage(self, events_table: str, scope: LedgerScope, *, resend_failed: bool) -> Staging:
        ledger.check_unique_events(self.con, events_table, scope)
        self._lock_days(self._days(events_table, scope), scope)
        ensure_ledger(self.bulk)
        upload_keys(self.bulk, self.con, events_table, scope)
        with bulk_transaction(self.bulk) as cursor:
            # Rows are numbered (`seq`) in source order, so a chunk's rows are usually one seq range.
            cursor.execute(
                f"""INSERT INTO {LEDGER_TABLE}
                        (ad_account_id, event_id, event_name, test, partition_day, status, attempts, updated_at)
                    SELECT $1, k.event_id, k.event_name, $2, k.partition_day, 'pending', 0, now()
                    FROM {_KEYS} k ORDER BY k.source_row
                    ON CONFLICT DO NOTHING""",
                (scope.ad_account_id, scope.test),
            )
        copy_ledger_rows(self.bulk, self.con, scope)
        return ledger.staging_counts(
            self.con, events_table, scope, resend_failed=resend_failed, ledger_table=LEDGER_COPY
        )

    def stream_chunks(
        self, events_table: str, scope: LedgerScope, *, resend_failed: bool, chunk_size: int
    ) -> Iterator[EventChunk]:
        return stream_chunks(
            self.con, events_table, scope, resend_failed=resend_failed, chunk_size=chunk_size, ledger_table=LEDGER_COPY
        )

    def mark_in_flight(self, seqs: np.ndarray) -> None:
        condition, parameters = _seq_filter(seqs)
        self._updates.execute(
            f"""UPDATE {LEDGER_TABLE}
                SET status = 'in_flight', attempts = attempts + 1,
                    first_sent_at = coalesce(first_sent_at, now()), updated_at = now()
                WHERE {condition}""",
            parameters,
        )

    def record_outcomes(self, seqs, statuses, errors, warnings, *, request_id, extra_attempts=0) -> None:
        common = {"request_id": request_id, "extra_attempts": extra_attempts}
        if len(set(statuses)) == 1 and len(set(errors)) == 1 and not any(warnings):
            condition, parameters = _seq_filter(seqs)
            self._updates.execute(
                f"""UPDATE {LEDGER_TABLE}
                    SET status = %(status)s, last_error = %(error)s, warning = NULL, request_id = %(request_id)s,
                        attempts = attempts + %(extra_attempts)s, updated_at = now()
                    WHERE {condition}""",
                {**parameters, **common, "status": str(statuses[0]), "error": errors[0]},
            )
            return
        self._updates.execute(
            f"""UPDATE {LEDGER_TABLE} AS l
                SET status = u.status, last_error = u.error, warning = u.warning, request_id = %(request_id)s,
                    attempts = l.attempts + %(extra_attempts)s, updated_at = now()
                FROM unnest(%(seqs)s::bigint[], %(statuses)s::text[], %(errors)s::text[], %(warnings)s::text[])
                     AS u(seq, status, error, warning)
                WHERE l.seq = u.seq""",
            {
                **common,
                "seqs": np.asarray(seqs, dtype=np.int64).tolist(),
                "statuses": [str(status) for status in statuses],
                "errors": list(errors),
                "warnings": list(warnings),
            },
        )

    def count_unsettled(self, events_table: str, scope: LedgerScope) -> int:
        with bulk_transaction(self.bulk) as cursor:
            cursor.execute(
                f"""SELECT count(*) FROM {_KEYS} k LEFT JOIN {LEDGER_TABLE} l
                      ON l.ad_account_id = $1 AND l.test = $2
                     AND l.event_id = k.event_id AND l.event_name = k.event_name
                    WHERE l.status IS NULL OR l.status IN ('pending', 'in_flight', 'failed_retryable')""",
                (scope.ad_account_id, scope.test),
            )
            return int(cursor.fetchone()[0])

    def close(self) -> None:
        """Ends the run: closing the lock connection releases its locks."""
        for connection in (self._updates, self._locks, self.con):
            if connection is not None:
                connection.close()
        self._locks = None

    def _days(self, events_table: str, scope: LedgerScope) -> list[date | None]:
        if scope.partition_days is not None:
            return sorted(set(scope.partition_days))
        rows = self.con.execute(f"SELECT DISTINCT partition_day FROM {qualified_name(events_table)}").fetchall()
        return sorted((day for (day,) in rows), key=lambda day: (day is None, day))

    def _lock_days(self, days: Sequence[date | None], scope: LedgerScope) -> None:
        self._locks = self.location.connect()
        for day in days:
            key = send_lock_key(scope.ad_account_id, scope.test, day)
            if not self._locks.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                logger.warning(
                    "another run is sending day %s to ad account %s%s: waiting for it to finish",
                    day,
                    scope.ad_account_id,
                    " (test mode)" if scope.test else "",
                )
                self._locks.execute("SELECT pg_advisory_lock(%s)", (key,))


def _seq_filter(seqs) -> tuple[str, dict]:
    """Ledger rows by `seq`: a range when the chunk is one (the usual case), else a list."""
    seq_array = np.asarray(seqs, dtype=np.int64)
    lo, hi = int(seq_array.min()), int(seq_array.max())
    if hi - lo + 1 == len(seq_array):
        return "seq BETWEEN %(lo)s AND %(hi)s", {"lo": lo, "hi": hi}
    return "seq = ANY(%(seq_list)s::bigint[])", {"seq_list": seq_array.tolist()}


def accounting(bulk, con: duckdb.DuckDBPyConnection, events_table: str, scope: LedgerScope) -> DeliveryAccounting:
    """`delivery_accounting` of `events_table` in `con` against the server's ledger."""
    if not ledger_exists(bulk):
        return account_events(con, events_table, scope, None)
    own = con.cursor()  # the caller's `con` may hold an unfinished result
    try:
        upload_keys(bulk, own, events_table, scope)
        copy_ledger_rows(bulk, own, scope)
        return account_events(own, events_table, scope, LEDGER_COPY)
    finally:
        own.close()


def summary(
    bulk, *, ad_account_id: str | None, test: bool | None, partition_days: Sequence[date] | None
) -> list[LedgerDaySummary]:
    if not ledger_exists(bulk):
        return []
    filters, parameters = [], []
    if ad_account_id is not None:
        parameters.append(ad_account_id)
        filters.append(f"l.ad_account_id = ${len(parameters)}")
    if test is not None:
        parameters.append(test)
        filters.append(f"l.test = ${len(parameters)}")
    if partition_days is not None:
        days = list(partition_days) or [None]
        placeholders = ", ".join(f"${len(parameters) + index + 1}" for index in range(len(days)))
        parameters.extend(days)
        filters.append(f"l.partition_day IN ({placeholders})")
    with bulk_transaction(bulk) as cursor:
        cursor.execute(
            f"""SELECT l.partition_day, l.ad_account_id, l.test, {STATUS_COUNTS_SQL}
                FROM {LEDGER_TABLE} l WHERE {" AND ".join(filters) or "TRUE"}
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
            tuple(parameters),
        )
        rows = cursor.fetchall()
    columns = ["partition_day", "ad_account_id", "test", *Status]
    return [LedgerDaySummary(**{str(name): value for name, value in zip(columns, row)}) for row in rows]
