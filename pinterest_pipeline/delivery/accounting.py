"""Counting the ledger: per day and ad account for `status`, and per partition set for the upload check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import duckdb

from pinterest_pipeline.delivery.ledger import LEDGER_TABLE, LedgerScope, Status, run_sql
from pinterest_pipeline.support.sql_identifiers import qualified_name

# Also valid PostgreSQL: the state's ledger summary on the server uses it as it is.
STATUS_COUNTS_SQL = ",\n".join(f"count(*) FILTER (WHERE l.status = '{status}') AS {status}" for status in Status)
_STATUS_COUNTS = STATUS_COUNTS_SQL


@dataclass(frozen=True, kw_only=True)
class StatusCounts:
    """Ledger rows by status, one count per `Status`."""

    delivered: int = 0
    failed: int = 0
    failed_retryable: int = 0
    rejected: int = 0
    pending: int = 0
    in_flight: int = 0

    @property
    def settled(self) -> int:
        """Rows no later run sends again (unless asked to re-send failed ones)."""
        return self.delivered + self.failed + self.rejected

    @property
    def total(self) -> int:
        return self.settled + self.failed_retryable + self.pending + self.in_flight


@dataclass(frozen=True, kw_only=True)
class LedgerDaySummary(StatusCounts):
    """Ledger rows of one partition day, ad account and mode, by status."""

    partition_day: date | None
    ad_account_id: str
    test: bool


def _ledger_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name AND schema_name = current_schema()",
            {"name": LEDGER_TABLE},
        ).fetchone()[0]
    )


def ledger_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    ad_account_id: str | None = None,
    test: bool | None = None,
    partition_days: Iterable[date] | None = None,
) -> list[LedgerDaySummary]:
    """Status counts per (partition_day, ad_account_id, test), ordered by day; empty without a ledger."""
    if not _ledger_exists(con):
        return []
    filters, params = [], {}
    if ad_account_id is not None:
        filters.append("l.ad_account_id = $account")
        params["account"] = ad_account_id
    if test is not None:
        filters.append("l.test = $test")
        params["test"] = test
    if partition_days is not None:
        filters.append("list_contains($days::DATE[], l.partition_day)")
        params["days"] = list(partition_days)
    rows = con.execute(
        f"""
        SELECT l.partition_day, l.ad_account_id, l.test,
               {_STATUS_COUNTS}
        FROM {LEDGER_TABLE} l
        WHERE {" AND ".join(filters) or "TRUE"}
        GROUP BY ALL
        ORDER BY l.partition_day, l.ad_account_id, l.test
        """,
        params,
    ).fetchall()
    columns = ["partition_day", "ad_account_id", "test", *Status]
    return [LedgerDaySummary(**{str(name): value for name, value in zip(columns, row)}) for row in rows]


@dataclass(frozen=True, kw_only=True)
class DeliveryAccounting(StatusCounts):
    """Where every event of an events table (for some days) stands with one ad account.

    `events` is the number of events in the table; every one of them is in exactly one of the
    status counts or in `not_staged`, the events no send has looked at yet.
    """

    events: int
    not_staged: int

    @property
    def unsettled(self) -> int:
        return self.failed_retryable + self.pending + self.in_flight + self.not_staged

    @property
    def balanced(self) -> bool:
        return self.settled + self.unsettled == self.events


def delivery_accounting(
    con: duckdb.DuckDBPyConnection,
    events_table: str,
    ad_account_id: str,
    *,
    partition_days: Iterable[date] | None = None,
    test: bool = False,
) -> DeliveryAccounting:
    """Account for every event of `events_table` (in `partition_days`, or all) against the ledger."""
    scope = LedgerScope(ad_account_id, test, tuple(partition_days) if partition_days is not None else None)
    return account_events(con, events_table, scope, LEDGER_TABLE if _ledger_exists(con) else None)


def account_events(
    con: duckdb.DuckDBPyConnection, events_table: str, scope: LedgerScope, ledger_table: str | None
) -> DeliveryAccounting:
    """`delivery_accounting` against `ledger_table` in `con` (the ledger, or a copy of the rows of
    the scope's events); None when no ledger exists yet."""
    events = qualified_name(events_table)
    if ledger_table is None:
        # Nothing was ever sent from this database: every event is still to stage.
        (total,) = run_sql(
            con, f"SELECT count(*) FROM {events} e WHERE {scope.day_filter('e')}", scope.params()
        ).fetchone()
        return DeliveryAccounting(events=total, not_staged=total)
    row = run_sql(
        con,
        f"""
        SELECT count(*) AS events, {_STATUS_COUNTS}, count(*) FILTER (WHERE l.status IS NULL) AS not_staged
        FROM {events} e
        LEFT JOIN {ledger_table} l
          ON l.event_id = e.event_id AND l.event_name = e.event_name
         AND l.ad_account_id = $account AND l.test = $test
        WHERE {scope.day_filter("e")}
        """,
        scope.params(),
    ).fetchone()
    names = ["events", *Status, "not_staged"]
    return DeliveryAccounting(**{str(name): value for name, value in zip(names, row)})
