"""The delivery ledger: what was sent where, and what Pinterest said about each event (docs/delivery.md).

One row per (ad_account_id, event_id, event_name, test). Every change is a set-based statement
committed before the program moves on: events are marked `in_flight` before their request goes out
and get their outcome as soon as the answer is read. A process killed at any moment therefore leaves a
ledger that tells exactly which events may have reached Pinterest without an answer (`in_flight`);
the next run sends those again, with the same event_id, and skips everything settled.

`seq` is a number given to each row when it is staged, in source order. It addresses rows cheaply:
updates filter on a `seq` range, which DuckDB answers from its min/max zone maps without reading
the whole ledger. The key has no PRIMARY KEY index (an index over tens of millions of keys would
hold them all in memory); uniqueness comes from staging, the only place rows are inserted, which
inserts a key only when it is absent.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np

from pinterest_pipeline.errors import InputError
from pinterest_pipeline.pipeline_tables import transaction
from pinterest_pipeline.support.sql_identifiers import qualified_name
from pinterest_pipeline.support.sql_parameters import used_parameters

LEDGER_TABLE = "delivery_ledger"


class Status(enum.StrEnum):
    PENDING = "pending"  # staged, never sent
    IN_FLIGHT = "in_flight"  # a request holding it went out; no answer recorded yet
    DELIVERED = "delivered"  # Pinterest processed it
    FAILED = "failed"  # Pinterest refused the event itself (200/422); re-sent only with resend_failed
    FAILED_RETRYABLE = "failed_retryable"  # no answer after every attempt; the next run re-sends it
    REJECTED = "rejected"  # a 400 isolated by bisection; never re-sent


SETTLED = (Status.DELIVERED, Status.FAILED, Status.REJECTED)
UNSETTLED = (Status.PENDING, Status.IN_FLIGHT, Status.FAILED_RETRYABLE)

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    seq BIGINT NOT NULL,
    ad_account_id VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    event_name VARCHAR NOT NULL,
    test BOOLEAN NOT NULL,
    partition_day DATE,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error VARCHAR,
    warning VARCHAR,
    request_id VARCHAR,
    first_sent_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
)
"""


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Execute `sql` binding only the named parameters it uses (DuckDB refuses unused ones)."""
    return con.execute(sql, used_parameters(sql, params))


def run_sql_relation(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> duckdb.DuckDBPyRelation:
    """Like `run_sql`, as a lazily read relation (for streaming a result in batches)."""
    return con.sql(sql, params=used_parameters(sql, params))


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_CREATE)


@dataclass(frozen=True)
class LedgerScope:
    """The ledger rows one run works on: one ad account, production or test, some partition days."""

    ad_account_id: str
    test: bool
    partition_days: tuple[date, ...] | None = None

    def params(self) -> dict:
        """Bound parameters of the scope's SQL: `$account`, `$test` and, when days are selected, `$days`."""
        params = {"account": self.ad_account_id, "test": self.test}
        if self.partition_days is not None:
            params["days"] = list(self.partition_days)
        return params

    def day_filter(self, alias: str) -> str:
        return "TRUE" if self.partition_days is None else f"list_contains($days::DATE[], {alias}.partition_day)"


@dataclass(frozen=True)
class Staging:
    events_considered: int  # events of the selected days in the events table
    already_settled: int  # of those, settled before this run (skipped)
    to_send: int  # pending, in flight at a previous crash, failed_retryable (+ failed on resend)


def sendable_statuses(resend_failed: bool) -> tuple[str, ...]:
    return tuple(UNSETTLED) + ((Status.FAILED,) if resend_failed else ())


def check_unique_events(con: duckdb.DuckDBPyConnection, events_table: str, scope: LedgerScope) -> None:
    """Refuse an events table that repeats an (event_id, event_name) among the scope's days."""
    events = qualified_name(events_table)
    duplicates = run_sql(
        con,
        f"SELECT count(*) - count(DISTINCT (event_id, event_name)) FROM {events} e WHERE {scope.day_filter('e')}",
        scope.params(),
    ).fetchall()[0][0]  # fetched to the end: the connection is free for the next statement
    if duplicates:
        raise InputError(
            f"{events_table} holds {duplicates} events whose (event_id, event_name) repeats an earlier one; "
            "each event must appear once (the transform rejects repeats as duplicate_in_run)"
        )


def stage(
    con: duckdb.DuckDBPyConnection, events_table: str, scope: LedgerScope, *, resend_failed: bool
) -> Staging:
    """Insert a `pending` row for every event of the scope the ledger does not know yet."""
    ensure_ledger(con)
    check_unique_events(con, events_table, scope)
    events = qualified_name(events_table)
    with transaction(con):
        run_sql(
            con,
            f"""
            INSERT INTO {LEDGER_TABLE}
                (seq, ad_account_id, event_id, event_name, test, partition_day, status, attempts, updated_at)
            SELECT (SELECT coalesce(max(seq), 0) FROM {LEDGER_TABLE}) + row_number() OVER (ORDER BY e.source_row),
                   $account, e.event_id, e.event_name, $test, e.partition_day, 'pending', 0, now()
            FROM {events} e
            WHERE {scope.day_filter('e')}
              AND NOT EXISTS (
                  SELECT 1 FROM {LEDGER_TABLE} l
                  WHERE l.ad_account_id = $account AND l.test = $test
                    AND l.event_id = e.event_id AND l.event_name = e.event_name)
            """,
            scope.params(),
        )
    return staging_counts(con, events_table, scope, resend_failed=resend_failed)


def staging_counts(
    con: duckdb.DuckDBPyConnection,
    events_table: str,
    scope: LedgerScope,
    *,
    resend_failed: bool,
    ledger_table: str = LEDGER_TABLE,
) -> Staging:
    """How the scope's events stand once staged, read from `ledger_table` in `con` (the ledger itself,
    or a copy of the scope's rows)."""
    considered, settled = run_sql(
        con,
        f"""
        SELECT count(*), count(*) FILTER (WHERE NOT list_contains($sendable, l.status))
        FROM {qualified_name(events_table)} e JOIN {ledger_table} l
          ON l.event_id = e.event_id AND l.event_name = e.event_name
        WHERE l.ad_account_id = $account AND l.test = $test AND {scope.day_filter('e')}
        """,
        {**scope.params(), "sendable": list(sendable_statuses(resend_failed))},
    ).fetchall()[0]
    return Staging(considered, settled, considered - settled)


def send_plan_sql(events_table: str, scope: LedgerScope, ledger_table: str = LEDGER_TABLE) -> str:
    """The events to send, in source order: `seq`, `event_json` (as UTF-8 bytes followed by the comma
    that separates events in a body, so a run of them is a body's contents as they are).

    Parameters: `scope.params()` + `$sendable`. `ledger_table`: the ledger, or a copy of the scope's rows.
    """
    return f"""
        SELECT l.seq, encode(e.event_json || ',') AS event_json
        FROM {qualified_name(events_table)} e JOIN {ledger_table} l
          ON l.event_id = e.event_id AND l.event_name = e.event_name
        WHERE l.ad_account_id = $account AND l.test = $test
          AND list_contains($sendable, l.status) AND {scope.day_filter('e')}
        ORDER BY e.source_row
    """


def _seq_filter(seqs: Sequence[int] | np.ndarray, alias: str) -> tuple[str, dict]:
    """SQL selecting ledger rows by `seq`, and its parameters.

    The `seq` range always bounds the statement, so DuckDB skips row groups outside it. A run's
    first send of a day stages and reads events in the same order, so its chunks are usually
    contiguous `seq` ranges; then the range alone is the filter (a quarter of the cost of a list).
    """
    seq_array = np.asarray(seqs, dtype=np.int64)
    lo, hi = int(seq_array.min()), int(seq_array.max())
    params = {"lo": lo, "hi": hi}
    condition = f"{alias}.seq BETWEEN $lo AND $hi"
    if hi - lo + 1 != len(seq_array):  # seqs are distinct, so an equal count means every seq of the range
        condition += f" AND list_contains($seqs, {alias}.seq)"
        params["seqs"] = seq_array.tolist()
    return condition, params


def mark_in_flight(con: duckdb.DuckDBPyConnection, seqs: Sequence[int] | np.ndarray) -> None:
    """Committed before the request holding these events goes out."""
    condition, params = _seq_filter(seqs, LEDGER_TABLE)
    run_sql(
        con,
        f"""
        UPDATE {LEDGER_TABLE}
        SET status = 'in_flight', attempts = attempts + 1,
            first_sent_at = coalesce(first_sent_at, now()), updated_at = now()
        WHERE {condition}
        """,
        params,
    )


def record_outcomes(
    con: duckdb.DuckDBPyConnection,
    seqs: Sequence[int] | np.ndarray,
    statuses: Sequence[str],
    errors: Sequence[str | None],
    warnings: Sequence[str | None],
    *,
    request_id: str | None,
    extra_attempts: int = 0,
) -> None:
    """Record one answer: a status (and error, warning) per event, in one statement."""
    common = {"request_id": request_id, "extra_attempts": extra_attempts}
    if len(set(statuses)) == 1 and len(set(errors)) == 1 and not any(warnings):
        # The usual answer (all processed, or one error for the whole chunk): no per-event values.
        condition, params = _seq_filter(seqs, LEDGER_TABLE)
        run_sql(
            con,
            f"""
            UPDATE {LEDGER_TABLE}
            SET status = $status, last_error = $error, warning = NULL, request_id = $request_id,
                attempts = attempts + $extra_attempts, updated_at = now()
            WHERE {condition}
            """,
            {**params, **common, "status": str(statuses[0]), "error": errors[0]},
        )
        return
    condition, params = _seq_filter(seqs, "l")
    run_sql(
        con,
        f"""
        UPDATE {LEDGER_TABLE} AS l
        SET status = u.status, last_error = u.error, warning = u.warning, request_id = $request_id,
            attempts = l.attempts + $extra_attempts, updated_at = now()
        FROM (SELECT unnest($event_seqs) AS seq, unnest($statuses) AS status,
                     unnest($errors::VARCHAR[]) AS error, unnest($warnings::VARCHAR[]) AS warning) AS u
        WHERE l.seq = u.seq AND {condition}
        """,
        {
            **params,
            **common,
            "event_seqs": np.asarray(seqs, dtype=np.int64).tolist(),
            "statuses": [str(s) for s in statuses],
            "errors": list(errors),
            "warnings": list(warnings),
        },
    )


def count_unsettled(con: duckdb.DuckDBPyConnection, events_table: str, scope: LedgerScope) -> int:
    """Events of the scope still to send: pending, in flight, failed_retryable, or not staged at all."""
    params = scope.params()
    return run_sql(
        con,
        f"""
        SELECT count(*) FROM {qualified_name(events_table)} e
        LEFT JOIN {LEDGER_TABLE} l
          ON l.event_id = e.event_id AND l.event_name = e.event_name
         AND l.ad_account_id = $account AND l.test = $test
        WHERE {scope.day_filter('e')} AND (l.status IS NULL OR l.status IN ('pending', 'in_flight', 'failed_retryable'))
        """,
        params,
    ).fetchone()[0]
