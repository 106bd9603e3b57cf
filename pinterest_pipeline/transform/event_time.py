"""`event_time` as integer Unix seconds, in DuckDB SQL (docs/rules.md#event-level-rules).

Accepted: TIMESTAMPTZ; naive TIMESTAMP (and DATE) read in `source_timezone`; epoch seconds, or
milliseconds when 13 digits long; ISO-8601 text with or without a UTC offset. Anything that cannot
be read gives NULL, which the transform rejects as `invalid_event_time`.

Naive local times follow Python's `fold=0`: on a DST overlap (the hour that happens twice) the
earlier instant, in a DST gap (the hour that never happens) the offset from before the gap, which
shifts the time forward. DuckDB's own `timezone(tz, TIMESTAMP)` picks the later instant on an
overlap, so the macros below resolve the offset themselves from two probes one day either side.
"""

from __future__ import annotations

from pinterest_pipeline.transform import contract

# Time zones that never change their offset: local seconds are UTC seconds.
UTC_NAMES = frozenset(
    {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu", "Etc/UCT", "UCT"}
)

EVENT_TIME_MACROS = r"""
-- The UTC offset, in seconds, of time zone `tz` at the instant `epoch_s`.
CREATE OR REPLACE TEMP MACRO pp_utc_offset_s(epoch_s, tz) AS
    CAST(epoch(timezone(tz, to_timestamp(epoch_s))) AS BIGINT) - epoch_s;

-- Whether the instant `epoch_s` reads `local_s` on the wall clocks of `tz`.
CREATE OR REPLACE TEMP MACRO pp_reads_as(epoch_s, local_s, tz) AS
    epoch_s + pp_utc_offset_s(epoch_s, tz) = local_s;

-- Unix seconds of the wall-clock time `local_s` (seconds of a naive timestamp read as UTC) in `tz`,
-- with Python's fold=0: when the offsets a day before and a day after differ, the instant with the
-- offset after is used only if it alone reads as `local_s`; otherwise (before the change, the
-- first pass of an overlap, a gap) the offset before applies.
CREATE OR REPLACE TEMP MACRO pp_local_to_epoch_s(local_s, tz) AS (
    CASE
        WHEN pp_utc_offset_s(local_s - 86400, tz) = pp_utc_offset_s(local_s + 86400, tz)
            THEN local_s - pp_utc_offset_s(local_s - 86400, tz)
        WHEN pp_reads_as(local_s - pp_utc_offset_s(local_s + 86400, tz), local_s, tz)
            AND NOT pp_reads_as(local_s - pp_utc_offset_s(local_s - 86400, tz), local_s, tz)
            THEN local_s - pp_utc_offset_s(local_s + 86400, tz)
        ELSE local_s - pp_utc_offset_s(local_s - 86400, tz)
    END
);

-- Unix seconds from an epoch number: 13 digits are milliseconds; longer ones are not read.
CREATE OR REPLACE TEMP MACRO pp_epoch_number_to_s(n) AS (
    CASE
        WHEN NOT isfinite(CAST(n AS DOUBLE)) THEN NULL
        WHEN abs(CAST(n AS DOUBLE)) < 1e12 THEN CAST(floor(CAST(n AS DOUBLE)) AS BIGINT)
        WHEN abs(CAST(n AS DOUBLE)) < 1e13 THEN CAST(floor(CAST(n AS DOUBLE) / 1000) AS BIGINT)
    END
);

-- Whether ISO-8601 text carries its own UTC offset (`Z`, `+02`, `+0200`, `+02:00` after a time).
CREATE OR REPLACE TEMP MACRO pp_has_utc_offset(s) AS
    regexp_matches(s, '[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)$');
"""


def _naive_seconds(timestamp_sql: str) -> str:
    return f"CAST(floor(epoch({timestamp_sql})) AS BIGINT)"


def _local_to_epoch(timestamp_sql: str, utc: bool) -> str:
    seconds = _naive_seconds(timestamp_sql)
    return seconds if utc else f"pp_local_to_epoch_s({seconds}, $source_timezone)"


def event_time_sql(column_sql: str, kind: str, *, source_timezone: str) -> str:
    """A DuckDB expression giving Unix seconds (BIGINT) or NULL for the `event_time` column.

    Naive values use the bound parameter `$source_timezone` unless the zone is UTC.
    """
    utc = source_timezone in UTC_NAMES
    if kind == contract.TIMESTAMPTZ:
        return _naive_seconds(column_sql)
    if kind == contract.TIMESTAMP:
        return _local_to_epoch(column_sql, utc)
    if kind == contract.DATE:
        return _local_to_epoch(f"CAST({column_sql} AS TIMESTAMP)", utc)
    if kind in contract.NUMERIC:
        return f"pp_epoch_number_to_s({column_sql})"
    if kind == contract.TEXT:
        text = f"trim({column_sql})"
        return (
            f"CASE WHEN regexp_full_match({text}, '-?\\d+') THEN pp_epoch_number_to_s(TRY_CAST({text} AS HUGEINT))"
            f" WHEN pp_has_utc_offset({text}) THEN {_naive_seconds(f'TRY_CAST({text} AS TIMESTAMPTZ)')}"
            f" ELSE {_local_to_epoch(f'TRY_CAST({text} AS TIMESTAMP)', utc)} END"
        )
    return "CAST(NULL AS BIGINT)"  # an all-NULL column


def uses_source_timezone(kind: str, source_timezone: str) -> bool:
    """Whether `event_time_sql` for this kind binds `$source_timezone`."""
    return source_timezone not in UTC_NAMES and kind in (contract.TIMESTAMP, contract.DATE, contract.TEXT)
