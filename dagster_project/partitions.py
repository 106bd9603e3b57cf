"""The one daily partitioning every pinterest-pipeline asset shares.

A partition is a calendar day in the partitions' time zone: an event belongs to the day its
`event_time` falls on there, which is also the `partition_day` of the delivery ledger. The start
date and the time zone come from the environment, so a deployment configures them without code:

- `PINTEREST_PIPELINE_START_DATE` (`YYYY-MM-DD`, default 2025-01-01): the first day a backfill can reach;
- `PINTEREST_PIPELINE_PARTITION_TIMEZONE` (IANA name, default `UTC`): the same variable the engine's
  `PipelineConfig.partition_timezone` reads, so both always agree.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from pinterest_pipeline.config import ENV_PREFIX, ConfigError

START_DATE_ENV = f"{ENV_PREFIX}START_DATE"
TIMEZONE_ENV = f"{ENV_PREFIX}PARTITION_TIMEZONE"
DEFAULT_START_DATE = "2025-01-01"
DEFAULT_TIMEZONE = "UTC"


def build_daily_partitions(start_date: str, timezone: str) -> dg.DailyPartitionsDefinition:
    """Daily partitions from `start_date` in `timezone`; raises `ConfigError` naming the bad variable."""
    try:
        date.fromisoformat(start_date)
    except ValueError:
        raise ConfigError(f"{START_DATE_ENV} must be a date YYYY-MM-DD, got {start_date!r}") from None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{TIMEZONE_ENV} is not an IANA time zone: {timezone!r}") from None
    return dg.DailyPartitionsDefinition(start_date=start_date, timezone=timezone)


daily_partitions = build_daily_partitions(
    os.environ.get(START_DATE_ENV, DEFAULT_START_DATE),
    os.environ.get(TIMEZONE_ENV, DEFAULT_TIMEZONE),
)


def partition_day(partition_key: str) -> date:
    """The calendar day a partition key names (keys are `YYYY-MM-DD`)."""
    return date.fromisoformat(partition_key)


def day_window(partitions_def: dg.TimeWindowPartitionsDefinition, partition_key: str) -> tuple[datetime, datetime]:
    """Half-open `[start, end)` of one partition as aware datetimes in the partitions' time zone
    (23 or 25 hours long across a DST change)."""
    window = partitions_def.time_window_for_partition_key(partition_key)
    return window.start, window.end
