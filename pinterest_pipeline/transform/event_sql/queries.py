"""The two queries of a transform, composed from the stages: the row checks and the events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.support.sql_parameters import used_parameters
from pinterest_pipeline.transform.contract import SourceColumns
from pinterest_pipeline.transform.event_sql import fields as stages
from pinterest_pipeline.transform.event_sql import rules
from pinterest_pipeline.transform.event_sql.context import QueryContext
from pinterest_pipeline.transform.event_sql.event_json import event_json as event_json_sql

# Fields the reject rules and the rejects read: all the row checks compute.
ROW_CHECK_FIELDS = (
    "source_row", "event_id", "source_event_name", "mapped_event_name", "event_time", "event_time_given",
    "action_source", "h_em", "h_hashed_maids", "client_ip_address", "client_user_agent", "ad_account_id",
)


@dataclass(frozen=True)
class RowCheckQuery:
    """The row checks: the query, its bound values, and the session variables (name -> SELECT of a
    MAP) to set, with the same bound values, before it runs."""

    sql: str
    parameters: dict[str, Any]
    lookups: dict[str, str] = field(default_factory=dict)

    def set_lookups(self, con: duckdb.DuckDBPyConnection) -> None:
        for name, select in self.lookups.items():
            statement = f"SET VARIABLE {name} = ({select})"
            con.execute(statement, used_parameters(statement, self.parameters))


def build_row_check_query(
    source: str, position: str, columns: SourceColumns, config: PipelineConfig, now: datetime
) -> RowCheckQuery:
    """The SELECT yielding one narrow row per row of `source`, in its order: source_row, event_id,
    event_name (mapped; NULL when unknown), reason (NULL for a row to send), detail and
    partition_day. `position` is the SQL of a row's 0-based place in `source`."""
    q = QueryContext(columns, config, now)
    lookups = stages.lookups(q, source)
    numbered = stages.numbered(q, source, position)
    fields = stages.fields(q, ROW_CHECK_FIELDS)
    reason = rules.reason(q)
    detail = rules.detail(q)
    sql = f"""WITH numbered AS NOT MATERIALIZED (
{numbered}
), fields AS NOT MATERIALIZED (
{fields}
), checked AS NOT MATERIALIZED (
SELECT *, {reason} AS reason FROM fields
)
SELECT source_row, event_id, mapped_event_name AS event_name, reason, {detail} AS detail,
       {partition_day(q)} AS partition_day
  FROM checked"""
    return RowCheckQuery(sql, used_parameters(sql, q.params.values), lookups)


def build_event_json_query(
    source: str,
    position: str,
    columns: SourceColumns,
    config: PipelineConfig,
    now: datetime,
    *,
    line_terminated: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The SELECT of the events, in input order: source_row, event_id, event_name, event_time,
    partition_day, action_source, event_json, warnings and, for a routed source (`QueryContext.routed`),
    ad_account_id, for the rows of `source` without a
    reject reason (in-run duplicates included: the row checks find those), and its bound values.
    It reads the lookups the row checks set. `line_terminated` ends every event_json with a
    newline, as an NDJSON file holds it."""
    q = QueryContext(columns, config, now)
    numbered = stages.numbered(q, source, position)
    prepared = stages.prepared(q)
    fields = stages.fields(q, stage="prepared")
    checked = rules.checked(q)
    event_json = event_json_sql(q, line_terminated=line_terminated)
    sql = f"""WITH numbered AS NOT MATERIALIZED (
{numbered}
), prepared AS NOT MATERIALIZED (
{prepared}
), fields AS NOT MATERIALIZED (
{fields}
), checked AS NOT MATERIALIZED (
{checked}
)
SELECT source_row, event_id, mapped_event_name AS event_name, event_time, {partition_day(q)} AS partition_day,
       action_source, {event_json} AS event_json, warnings{", ad_account_id" if q.routed else ""}
  FROM checked"""
    return sql, used_parameters(sql, q.params.values)


def partition_day(q: QueryContext) -> str:
    """The day of `event_time` in the partitions' time zone."""
    tz = q.params.bind("partition_timezone", q.config.partition_timezone)
    return f"CAST(timezone({tz}, to_timestamp(event_time)) AS DATE)"
