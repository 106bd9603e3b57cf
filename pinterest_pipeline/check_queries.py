"""Set-based SQL for the checks on `pinterest_conversions`, over `event_json` exactly as it is sent.

`stage_checked_events` parses every event of the checked days once, with `json_transform`, into the
temp table `checked_events` (the fields the checks read; each hashed `user_data` field kept as its
JSON text). Each query below then selects the offending events as `(partition_day, event_id,
problem)`, and `find_offenders` summarizes one. Parameters are bound (`$days`, `$event_names`, ...);
the only text put into the SQL is table names and `user_data` keys, which are code constants.
Reported problems name fields and rules, never values: a value that should have been a hash may be
an email address.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from pinterest_pipeline.event_fields import ACTION_SOURCES, HASHED_USER_FIELDS
from pinterest_pipeline.pipeline_tables import EVENTS_TABLE, EXTRACT_TABLES, TRANSFORMS_TABLE, table_exists
from pinterest_pipeline.support.sql_identifiers import quote_identifier
from pinterest_pipeline.support.sql_parameters import used_parameters
from pinterest_pipeline.taxonomy import PINTEREST_EVENT_NAMES

SAMPLE_EVENT_IDS = 5
CHECKED_EVENTS = "checked_events"

# The shape `json_transform` reads: hashed fields and event_time stay JSON, so that a wrong type
# (a bare string where an array belongs, milliseconds as a float) is seen rather than cast away.
_EVENT_SHAPE = json.dumps(
    {
        "event_id": "VARCHAR",
        "event_name": "VARCHAR",
        "action_source": "VARCHAR",
        "event_time": "JSON",
        "user_data": {
            **dict.fromkeys(HASHED_USER_FIELDS, "JSON"),
            "client_ip_address": "VARCHAR",
            "client_user_agent": "VARCHAR",
        },
        "custom_data": {"opt_out_type": "VARCHAR"},
    }
)
_STAGE = f"""
CREATE OR REPLACE TEMP TABLE {CHECKED_EVENTS} AS
SELECT partition_day, e.event_id, e.event_name, e.action_source, e.event_time, e.user_data,
       e.custom_data.opt_out_type AS opt_out_type
FROM (
    SELECT partition_day, json_transform(event_json, $shape) AS e
    FROM {EVENTS_TABLE}
    WHERE $days::DATE[] IS NULL OR list_contains($days::DATE[], partition_day)
)
"""

# A hashed field as sent: a JSON array of one or more 64-character lowercase hex strings.
_DIGEST_ARRAY = r'\["[0-9a-f]{64}"(,"[0-9a-f]{64}")*\]'

IDENTIFIER_RULE = f"""
SELECT partition_day, event_id,
       'no em, no hashed_maids, and not both client_ip_address and client_user_agent' AS problem
FROM {CHECKED_EVENTS}
WHERE coalesce(json_array_length(user_data.em), 0) = 0
  AND coalesce(json_array_length(user_data.hashed_maids), 0) = 0
  AND (coalesce(user_data.client_ip_address, '') = '' OR coalesce(user_data.client_user_agent, '') = '')
"""

# Events with a hashed field present that is not a digest array. One regular expression per field
# and event, cheaper than unpivoting every event first (a row per field present, then DISTINCT);
# only the offending events, normally none, are unpivoted to name their fields.
_NOT_ALL_DIGESTS = " OR ".join(
    f"NOT coalesce(regexp_full_match(user_data.{field}::VARCHAR, '{_DIGEST_ARRAY}'), true)"
    for field in HASHED_USER_FIELDS
)
# One row per offending event and hashed field present (UNPIVOT leaves out absent ones).
NO_CLEAR_TEXT_PII = f"""
SELECT DISTINCT partition_day, event_id,
       'user_data.' || field || ' holds a value that is not a SHA-256 hex digest' AS problem
FROM (
    UNPIVOT (SELECT partition_day, event_id, unnest(user_data) FROM {CHECKED_EVENTS} WHERE {_NOT_ALL_DIGESTS})
    ON {", ".join(HASHED_USER_FIELDS)} INTO NAME field VALUE digests
)
WHERE NOT regexp_full_match(digests::VARCHAR, '{_DIGEST_ARRAY}')
"""

# Pinterest dedupes on event_id (and event_name), so a pair may appear once per day.
EVENT_ID_UNIQUE = f"""
SELECT partition_day, event_id,
       CASE WHEN coalesce(trim(event_id), '') = '' THEN 'missing event_id'
            ELSE 'repeated (event_id, event_name)' END AS problem
FROM (SELECT *, count(*) OVER (PARTITION BY partition_day, event_id, event_name) AS copies FROM {CHECKED_EVENTS})
WHERE coalesce(trim(event_id), '') = '' OR copies > 1
"""

EVENT_NAME_VALID = f"""
SELECT partition_day, event_id, 'event_name is not a Pinterest event name' AS problem
FROM {CHECKED_EVENTS}
WHERE NOT list_contains($event_names, coalesce(event_name, ''))
"""

ACTION_SOURCE_VALID = f"""
SELECT partition_day, event_id, 'action_source is not app_android, app_ios, web or offline' AS problem
FROM {CHECKED_EVENTS}
WHERE NOT list_contains($action_sources, coalesce(action_source, ''))
"""

# Measured from the clock and limits the transform recorded for the day, not from now.
EVENT_TIME_WINDOW = f"""
SELECT c.partition_day, c.event_id,
       CASE WHEN t.partition_day IS NULL THEN 'no transform clock recorded for the day'
            WHEN coalesce(json_type(c.event_time), '') NOT IN ('BIGINT', 'UBIGINT')
                THEN 'event_time is not integer seconds'
            WHEN c.event_time::BIGINT < epoch(t.transformed_at) - t.max_event_age_s THEN 'older than max_event_age'
            ELSE 'further in the future than max_future_skew' END AS problem
FROM {CHECKED_EVENTS} c LEFT JOIN {TRANSFORMS_TABLE} t USING (partition_day)
WHERE t.partition_day IS NULL
   OR coalesce(json_type(c.event_time), '') NOT IN ('BIGINT', 'UBIGINT')
   OR c.event_time::BIGINT NOT BETWEEN epoch(t.transformed_at) - t.max_event_age_s
                                   AND epoch(t.transformed_at) + t.max_future_skew_s
"""

# Pinterest acts only on the exact flag `LDP` in custom_data.opt_out_type (a comma-separated list).
_HAS_LDP = (
    "list_contains(list_transform(string_split(coalesce(opt_out_type, ''), ','), lambda flag: trim(flag)), 'LDP')"
)
LDP_FLAG_MALFORMED = f"""
SELECT partition_day, event_id, 'opt_out_type names LDP but not as the exact flag LDP' AS problem
FROM {CHECKED_EVENTS}
WHERE contains(upper(coalesce(opt_out_type, '')), 'LDP') AND NOT {_HAS_LDP}
"""

# A source row flagged LDP must not reach Pinterest without the flag.
_LDP_SOURCE_ROWS = """
SELECT partition_day, trim(CAST(event_id AS VARCHAR)) AS event_id
FROM {table}
WHERE ($days::DATE[] IS NULL OR list_contains($days::DATE[], partition_day))
  AND contains(upper(coalesce(opt_out_type, '')), 'LDP')
"""
LDP_FLAG_LOST = f"""
SELECT DISTINCT c.partition_day, c.event_id, 'the source row is flagged LDP, the event is not' AS problem
FROM {CHECKED_EVENTS} c JOIN ldp_source_rows s ON s.partition_day = c.partition_day AND s.event_id = c.event_id
WHERE NOT {_HAS_LDP}
"""

# LDP takes effect only with hashed st = ca and country = us (docs/rules.md, LDP); the event still goes out.
LDP_WITHOUT_EFFECT = f"""
SELECT partition_day, event_id, 'LDP set but st is not ca or country is not us' AS problem
FROM {CHECKED_EVENTS}
WHERE {_HAS_LDP}
  AND NOT (list_contains(coalesce(json_extract_string(user_data.st, '$[*]'), []), sha256('ca'))
           AND list_contains(coalesce(json_extract_string(user_data.country, '$[*]'), []), sha256('us')))
"""


@dataclass(frozen=True)
class Offenders:
    """What one check query found among the checked days' events."""

    checked: int
    offending: int
    by_problem: dict[str, int]
    by_day: dict[str, int]
    sample_event_ids: list[str]

    def metadata(self) -> dict[str, Any]:
        """Counts and a few event ids for the check result: no field values, so no PII."""
        return {
            "events_checked": self.checked,
            "offending_events": self.offending,
            "by_problem": self.by_problem,
            "by_day": self.by_day,
            "sample_event_ids": self.sample_event_ids,
        }


def stage_checked_events(
    con: duckdb.DuckDBPyConnection, days: list[date] | None, extract_tables: Sequence[str] = EXTRACT_TABLES
) -> int:
    """Parse the events of `days` (None: every day) into `checked_events`, and the source rows
    flagged LDP (in `extract_tables`) into `ldp_source_rows`; returns the number of events."""
    if not table_exists(con, EVENTS_TABLE):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {CHECKED_EVENTS} AS SELECT NULL AS partition_day WHERE FALSE")
        return 0
    con.execute(_STAGE, {"shape": _EVENT_SHAPE, "days": days})
    _stage_ldp_source_rows(con, days, extract_tables)
    return con.execute(f"SELECT count(*) FROM {CHECKED_EVENTS}").fetchone()[0]


def find_offenders(con: duckdb.DuckDBPyConnection, query: str, checked: int) -> Offenders:
    """Run one of the queries above over `checked_events` (`checked` events)."""
    if checked == 0:
        return Offenders(0, 0, {}, {}, [])
    params = {"event_names": sorted(PINTEREST_EVENT_NAMES), "action_sources": list(ACTION_SOURCES)}
    sql = f"""
        WITH offending AS ({query})
        SELECT
            (SELECT count(*) FROM (SELECT DISTINCT partition_day, event_id FROM offending)),
            (SELECT coalesce(map_from_entries(list((problem, n) ORDER BY problem)), MAP {{}})
               FROM (SELECT problem, count(*) AS n FROM offending GROUP BY problem)),
            (SELECT coalesce(map_from_entries(list((strftime(partition_day, '%Y-%m-%d'), n) ORDER BY partition_day)),
                             MAP {{}})
               FROM (SELECT partition_day, count(DISTINCT event_id) AS n FROM offending GROUP BY partition_day)),
            (SELECT list(DISTINCT event_id ORDER BY event_id)[1:{SAMPLE_EVENT_IDS}]
               FROM (SELECT coalesce(event_id, '<null>') AS event_id FROM offending))
    """
    offending, by_problem, by_day, sample = con.execute(sql, used_parameters(sql, params)).fetchone()
    return Offenders(checked, offending, dict(by_problem), dict(by_day), list(sample or []))


def _stage_ldp_source_rows(
    con: duckdb.DuckDBPyConnection, days: list[date] | None, extract_tables: Sequence[str]
) -> None:
    """`ldp_source_rows`: source rows of `days` flagged LDP, from the extracts that have an opt_out_type column."""
    parts = [
        _LDP_SOURCE_ROWS.format(table=quote_identifier(table))
        for table in extract_tables
        if table_exists(con, table) and _has_column(con, table, "opt_out_type")
    ]
    if parts:
        con.execute(f"CREATE OR REPLACE TEMP TABLE ldp_source_rows AS {' UNION ALL '.join(parts)}", {"days": days})
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE ldp_source_rows (partition_day DATE, event_id VARCHAR)")


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return column in {name for name, *_ in con.execute(f"DESCRIBE {quote_identifier(table)}").fetchall()}
