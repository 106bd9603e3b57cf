"""What a transform tells its user beyond the counts, so that nothing wrong passes unnoticed: the
source event names sent as `custom` because no mapping knows them, and a whole input rejected for
one reason (with an example, where the example is not personal data)."""

from __future__ import annotations

import duckdb

from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.support.sql_identifiers import qualified_name, quote_identifier
from pinterest_pipeline.taxonomy import event_key, resolve_mapping

# How many distinct unmapped names a transform lists (a broken extract can make every name unique).
MAX_LISTED_NAMES = 50

# Reasons whose rejected value is shown as an example: none of them is personal data. A reason's
# `detail` never quotes personal data, and already quotes the value for `unknown_event_name`,
# `invalid_action_source`, `too_old` and `in_future`; an unreadable `event_time` is read from the
# source, since its detail does not quote it.
_SOURCE_VALUE_SHOWN = {"invalid_event_time": "event_time"}


def unmapped_event_names(
    con: duckdb.DuckDBPyConnection, checked_rows: str, source: str, position: str, config: PipelineConfig
) -> dict[str, int]:
    """Source event names of the sendable rows of `checked_rows` (source_row, event_name, reason)
    that were sent as `custom` because no taxonomy preset or `event_mapping` entry knows them:
    name (trimmed) -> events, most first, at most `MAX_LISTED_NAMES` names. A name mapped to
    `custom` on purpose is not listed. `position` is the SQL of a row's 0-based place in `source`."""
    if config.unknown_events != "custom":
        return {}
    custom_rows = f"SELECT source_row FROM {checked_rows} WHERE reason IS NULL AND event_name = 'custom'"
    (custom,) = con.execute(f"SELECT count(*) FROM ({custom_rows})").fetchone()
    if not custom:
        return {}
    names = con.execute(
        f"""
        SELECT s.name, count(*) AS events
          FROM (SELECT {position} + 1 AS source_row, pp_text({quote_identifier('event_name')}) AS name
                  FROM {qualified_name(source)}) AS s
          JOIN ({custom_rows}) AS c USING (source_row)
         GROUP BY s.name
         ORDER BY events DESC, s.name
        """
    ).fetchall()
    known = resolve_mapping(config.taxonomy, config.event_mapping)
    unmapped = [(name, events) for name, events in names if event_key(name) not in known]
    return dict(unmapped[:MAX_LISTED_NAMES])


def single_reason_rejection(
    con: duckdb.DuckDBPyConnection,
    rejects_table: str,
    source: str,
    position: str,
    rows_in: int,
    rejected: dict[str, int],
) -> str | None:
    """When a non-empty input had every row rejected for one and the same reason, a line saying
    so with the first rejected row as an example; else None. The example is the row's `detail`
    (which never quotes personal data) and, for an unreadable `event_time`, the value itself."""
    if rows_in == 0 or len(rejected) != 1 or sum(rejected.values()) != rows_in:
        return None
    (reason,) = rejected
    source_row, detail = con.execute(
        f"SELECT source_row, detail FROM {qualified_name(rejects_table)} ORDER BY source_row LIMIT 1"
    ).fetchone()
    example = f"row {source_row}: {detail}"
    column = _SOURCE_VALUE_SHOWN.get(reason)
    if column is not None:
        (value,) = con.execute(
            f"SELECT CAST({quote_identifier(column)} AS VARCHAR) FROM "
            f"(SELECT {position} + 1 AS pp_row, * FROM {qualified_name(source)}) WHERE pp_row = $row",
            {"row": source_row},
        ).fetchone()
        example = f"row {source_row}: {column} {value!r}: {detail}"
    rows = "the only row was" if rows_in == 1 else f"all {rows_in:,} rows were"
    return f"{rows} rejected as {reason} (e.g. {example})"
