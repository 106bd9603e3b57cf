"""Materialization metadata: numbers the UI can plot per partition, and previews that show no PII.

Previews read only hashed `user_data` fields from `event_json`; IP addresses, user agents and click
ids are sent in clear to Pinterest but are never copied into Dagster's event log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime, timezone
from typing import Any

import dagster as dg
import duckdb

from pinterest_pipeline.delivery import DeliveryReport, total_report
from pinterest_pipeline.delivery.accounting import DeliveryAccounting
from pinterest_pipeline.event_fields import HASHED_USER_FIELDS, user_data_path
from pinterest_pipeline.transform import TransformResult

PREVIEW_ROWS = 5
_HASH_SHOWN_CHARS = 12


def extract_metadata(rows: int, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "dagster/row_count": rows,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
    }


def conversion_metadata(con: duckdb.DuckDBPyConnection, events_table: str, result: TransformResult) -> dict[str, Any]:
    """Counts, rejects and warnings by reason, hashed-field coverage and a preview of one day's events."""
    return {
        "dagster/row_count": result.events,
        "rows_in": result.rows_in,
        "rejected": sum(result.rejected.values()),
        "rejected_by_reason": dg.MetadataValue.json(dict(sorted(result.rejected.items()))),
        "warnings": sum(result.warnings.values()),
        "warnings_by_code": dg.MetadataValue.json(dict(sorted(result.warnings.items()))),
        # Nothing silently ignored: source names sent as `custom`, and columns the contract does not read.
        "sent_as_custom": sum(result.custom_event_names.values()),
        "sent_as_custom_by_source_name": dg.MetadataValue.json(dict(result.custom_event_names)),
        "ignored_columns": dg.MetadataValue.text(", ".join(result.ignored_columns) or "none"),
        "hashed_field_coverage": _coverage_table(con, events_table),
        "preview": dg.MetadataValue.md(events_preview_markdown(con, events_table)),
    }


def delivery_metadata(report: DeliveryReport, day: DeliveryAccounting) -> dict[str, Any]:
    """One day's delivery: what this run did, and where the whole day stands in the ledger.

    `delivered`, `failed`, `rejected_by_pinterest` and `still_to_send` are the day's totals, so the
    latest materialization of a delivered day never plots 0 delivered because a re-run had nothing
    left to send; this run's own counts carry `_this_run`. All numeric, so each plots per partition.
    """
    return {
        "summary": dg.MetadataValue.text(_delivery_summary(report, day)),
        "events": day.events,
        "delivered": day.delivered,
        "failed": day.failed,
        "rejected_by_pinterest": day.rejected,
        "still_to_send": day.unsettled,
        "sent_this_run": report.sent,
        "already_settled": report.already_settled,
        "delivered_this_run": report.delivered,
        "failed_this_run": report.failed,
        "failed_retryable_this_run": report.failed_retryable,
        "rejected_by_pinterest_this_run": report.rejected,
        "pinterest_warnings": report.warnings,
        "requests": report.requests,
        "retries": report.retries,
        "duration_s": dg.MetadataValue.float(round(float(report.duration_s), 3)),
    }


_ACCOUNTING_FIELDS = [field.name for field in fields(DeliveryAccounting)]


def accounts_delivery_metadata(per_account: Mapping[str, tuple[DeliveryReport, DeliveryAccounting]]) -> dict[str, Any]:
    """`delivery_metadata` of a routed upload: the totals over its ad accounts under the usual names,
    plus `<name>__<ad account>` lines per account for the day's status and this run's sends."""
    reports = [report for report, _ in per_account.values()]
    days = [day for _, day in per_account.values()]
    total_day = DeliveryAccounting(**{name: sum(getattr(day, name) for day in days) for name in _ACCOUNTING_FIELDS})
    metadata = delivery_metadata(total_report(reports), total_day)
    metadata["ad_accounts"] = len(per_account)
    for account, (report, day) in sorted(per_account.items()):
        metadata |= {
            f"events__{account}": day.events,
            f"delivered__{account}": day.delivered,
            f"failed__{account}": day.failed,
            f"rejected_by_pinterest__{account}": day.rejected,
            f"still_to_send__{account}": day.unsettled,
            f"sent_this_run__{account}": report.sent,
            f"requests__{account}": report.requests,
        }
    return metadata


def _delivery_summary(report: DeliveryReport, day: DeliveryAccounting) -> str:
    if report.sent == 0 and day.events and day.unsettled == 0:
        return (
            f"nothing to send: already delivered {day.delivered:,} (failed {day.failed:,}, rejected {day.rejected:,})"
        )
    if day.events == 0:
        return "no events to send on this day"
    return (
        f"sent {report.sent:,} this run; the day: delivered {day.delivered:,} of {day.events:,},"
        f" failed {day.failed:,}, rejected {day.rejected:,}, still to send {day.unsettled:,}"
    )


def hashed_field_coverage(con: duckdb.DuckDBPyConnection, events_table: str) -> tuple[int, dict[str, int]]:
    """Number of events, and per hashed field how many events carry it (events never hold empty arrays)."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE list_contains(user_data_keys, '{field}'))" for field in HASHED_USER_FIELDS
    )
    keys = f"SELECT json_keys(event_json, '$.user_data') AS user_data_keys FROM {events_table}"
    total, *per_field = con.execute(f"SELECT count(*), {counts} FROM ({keys})").fetchone()
    return total, dict(zip(HASHED_USER_FIELDS, per_field, strict=True))


def _coverage_table(con: duckdb.DuckDBPyConnection, events_table: str) -> dg.TableMetadataValue:
    total, per_field = hashed_field_coverage(con, events_table)
    records = [
        dg.TableRecord({"field": field, "events": count, "share": round(count / total, 4) if total else 0.0})
        for field, count in per_field.items()
    ]
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("field", "string", description="hashed user_data key"),
            dg.TableColumn("events", "int", description="events with at least one value"),
            dg.TableColumn("share", "float", description="share of the day's events"),
        ]
    )
    return dg.MetadataValue.table(records, schema=schema)


def events_preview_markdown(con: duckdb.DuckDBPyConnection, events_table: str, limit: int = PREVIEW_ROWS) -> str:
    """A markdown table of the first events: ids, name, time, source and the start of each hash."""
    hashed = ", ".join(f"json_extract_string(event_json, '{user_data_path(field)}[0]')" for field in HASHED_USER_FIELDS)
    rows = con.execute(
        f"SELECT event_id, event_name, event_time, action_source, {hashed}"
        f" FROM {events_table} ORDER BY source_row LIMIT $limit",
        {"limit": limit},
    ).fetchall()
    if not rows:
        return "_no events_"
    header = "| event_id | event_name | event_time (UTC) | action_source | hashed user_data |\n|---|---|---|---|---|"
    lines = [header]
    for event_id, event_name, event_time, action_source, *hashes in rows:
        shown = ", ".join(
            f"{field}: `{value[:_HASH_SHOWN_CHARS]}…`"
            for field, value in zip(HASHED_USER_FIELDS, hashes, strict=True)
            if value
        )
        when = datetime.fromtimestamp(event_time, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"| {_cell(event_id)} | {event_name} | {when} | {action_source} | {shown} |")
    return "\n".join(lines)


def _cell(text: Any) -> str:
    # event_ids come from the warehouse: keep them from breaking the table.
    return json.dumps(str(text))[1:-1].replace("|", "\\|")
