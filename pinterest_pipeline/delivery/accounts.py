"""Sending one events table to several ad accounts (docs/accounts.md).

A routed transform gives every event an `ad_account_id`. Each account's events are sent as a run of
their own: staged from the table by account, to that account's target (its token), through its own
rate limiter (Pinterest's limit is per account) and into its own ledger rows (the ledger key holds
the account). Accounts are sent one after another, so each gets the whole `concurrency`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from datetime import date
from typing import TypeVar

import duckdb

from pinterest_pipeline.config import ConfigError, PipelineConfig
from pinterest_pipeline.delivery.deliver import DeliveryReport, deliver
from pinterest_pipeline.delivery.rate_limit import RollingWindowLimiter
from pinterest_pipeline.delivery.target import PinterestTarget
from pinterest_pipeline.support.sql_identifiers import qualified_name

ACCOUNT_COLUMN = "ad_account_id"
# The table holding one account's events while they are sent: not a TEMP one, since the send plan
# reads it from a cursor of its own, which does not see this connection's temporary objects.
ACCOUNT_EVENTS = "pp_account_events"

T = TypeVar("T")


def is_routed(con: duckdb.DuckDBPyConnection, events_table: str) -> bool:
    """Whether `events_table` carries an ad account per event (a routed transform wrote it)."""
    return ACCOUNT_COLUMN in {name.lower() for name in con.table(qualified_name(events_table)).columns}


def event_accounts(
    con: duckdb.DuckDBPyConnection, events_table: str, partition_days: Iterable[date] | None = None
) -> list[str]:
    """The ad accounts the events of `partition_days` (None: all) go to, in order."""
    days = list(partition_days) if partition_days is not None else None
    day_filter = "TRUE" if days is None else "list_contains($days::DATE[], partition_day)"
    rows = con.execute(
        f"SELECT DISTINCT {ACCOUNT_COLUMN} FROM {qualified_name(events_table)} WHERE {day_filter} ORDER BY 1",
        {"days": days} if days is not None else None,
    ).fetchall()
    return [account for (account,) in rows]


def deliver_per_account(
    con: duckdb.DuckDBPyConnection,
    events_table: str,
    targets: Mapping[str, PinterestTarget],
    send: Callable[[str, PinterestTarget], T],
    *,
    partition_days: Iterable[date] | None = None,
) -> dict[str, T]:
    """Call `send(table, target)` for each account of `targets`, `table` holding that account's
    events of `events_table` (in `con`): `send` delivers them (`deliver`, a state session's), or
    accounts for them against the ledger. Returns what `send` returned, per account.

    A table without `ad_account_id` goes whole to the one target. Every configured account is
    called, with no events when it has none. Raises `ConfigError` before anything is sent when
    events go to an account `targets` lacks, or a table without accounts is given several targets.
    """
    for account, target in targets.items():
        if target.ad_account_id != account:
            raise ConfigError(f"the target of ad account {account} is for ad account {target.ad_account_id}")
    days = list(partition_days) if partition_days is not None else None
    if not is_routed(con, events_table):
        if len(targets) != 1:
            raise ConfigError(
                f"{events_table} has no {ACCOUNT_COLUMN} column, so it cannot be split between "
                f"{len(targets)} ad accounts: set routing in the config or add an ad_account_id column"
            )
        (account, target), = targets.items()
        return {account: send(events_table, target)}
    unknown = [account for account in event_accounts(con, events_table, days) if account not in targets]
    if unknown:
        raise ConfigError(
            f"events go to ad account {', '.join(unknown)}, which has no access token configured "
            f"(configured: {', '.join(sorted(targets))})"
        )
    day_filter = "TRUE" if days is None else "list_contains($days::DATE[], partition_day)"
    results = {}
    for account in sorted(targets):
        # A filter keeps the table's (source) order; the copy holds one account's events only.
        con.execute(
            f"CREATE OR REPLACE TABLE {ACCOUNT_EVENTS} AS SELECT * FROM {qualified_name(events_table)} "
            f"WHERE {ACCOUNT_COLUMN} = $account AND {day_filter}",
            {"account": account, **({"days": days} if days is not None else {})},
        )
        try:
            results[account] = send(ACCOUNT_EVENTS, targets[account])
        finally:
            con.execute(f"DROP TABLE IF EXISTS {ACCOUNT_EVENTS}")
    return results


def deliver_accounts(
    con: duckdb.DuckDBPyConnection,
    events_table: str,
    targets: Mapping[str, PinterestTarget],
    config: PipelineConfig,
    *,
    partition_days: Iterable[date] | None = None,
    rate_limiters: Mapping[str, RollingWindowLimiter] | None = None,
    **options,
) -> dict[str, DeliveryReport]:
    """`deliver` of each account's events to its target (see `deliver_per_account`), the ledger in
    `con`. `rate_limiters` overrides the limiter of some accounts (each account otherwise gets one
    built from `config`); `options` are `deliver`'s other keyword arguments."""
    days = list(partition_days) if partition_days is not None else None
    limiters = rate_limiters or {}

    def send(table: str, target: PinterestTarget) -> DeliveryReport:
        return deliver(
            con, table, target, config, partition_days=days,
            rate_limiter=limiters.get(target.ad_account_id), **options,
        )

    return deliver_per_account(con, events_table, targets, send, partition_days=days)


def total_report(reports: Iterable[DeliveryReport]) -> DeliveryReport:
    """The counts of several accounts' reports added up; the duration is the sum of theirs."""
    total = DeliveryReport()
    for report in reports:
        for field in fields(DeliveryReport):
            value = getattr(report, field.name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                setattr(total, field.name, getattr(total, field.name) + value)
        for message, count in report.warning_messages.items():
            total.warning_messages[message] = total.warning_messages.get(message, 0) + count
        total.connection_error = report.connection_error or total.connection_error
    total.duration_s = round(total.duration_s, 3)
    return total
