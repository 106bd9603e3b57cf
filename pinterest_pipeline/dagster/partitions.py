"""The daily partitions of one pipeline instance.

A partition is a calendar day in the partitions' time zone: an event belongs to the day its
`event_time` falls on there, which is also the `partition_day` of the delivery ledger.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from pinterest_pipeline.config import ConfigError


def build_daily_partitions(start_date: str | date, timezone: str = "UTC") -> dg.DailyPartitionsDefinition:
    """Daily partitions from `start_date` in `timezone`; raises `ConfigError` naming the bad key."""
    start = start_date.isoformat() if isinstance(start_date, date) else start_date
    try:
        date.fromisoformat(start)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid partitions.start_date: must be a date YYYY-MM-DD, got {start_date!r}") from None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"invalid partitions.timezone: not an IANA time zone: {timezone!r}") from None
    return dg.DailyPartitionsDefinition(start_date=start, timezone=timezone)


def partition_day(partition_key: str) -> date:
    """The calendar day a partition key names (keys are `YYYY-MM-DD`)."""
    return date.fromisoformat(partition_key)


def day_window(partitions_def: dg.TimeWindowPartitionsDefinition, partition_key: str) -> tuple[datetime, datetime]:
    """Half-open `[start, end)` of one partition as aware datetimes in the partitions' time zone
    (23 or 25 hours long across a DST change)."""
    window = partitions_def.time_window_for_partition_key(partition_key)
    return window.start, window.end
