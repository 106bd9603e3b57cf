"""Asset checks: what must hold before a day's events may leave, and that the upload lost nothing.

The checks on `pinterest_conversions` are blocking: in a run that also holds `pinterest_upload`,
a failure (ERROR severity) keeps the upload from running, and an upload in a run of its own asks
`check_gate` the same question first. `ldp_flags` fails with WARN severity when LDP is set where it
cannot take effect (no hashed st=ca and country=us): those events are still sent, as Pinterest
accepts them, and the day is not blocked.

All checks run as one op over one DuckDB connection: they read the same file the assets write, and
DuckDB admits one writing process at a time.
"""

from collections.abc import Iterator
from datetime import date

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pinterest_pipeline import check_queries as q
from dagster_project.partitions import partition_day
from pinterest_pipeline.pipeline_tables import EVENTS_TABLE, extracted_rows, rejects_by_reason, table_exists
from dagster_project.resources import PIPELINE_DB_POOL, PinterestResource, pipeline_connection
from pinterest_pipeline.delivery.accounting import delivery_accounting

IDENTIFIER_RULE = "identifier_rule"
LDP_FLAGS = "ldp_flags"
NO_CLEAR_TEXT_PII = "no_clear_text_pii"
EVENT_ID_UNIQUE = "event_id_unique"
EVENT_NAME_VALID = "event_name_valid"
ACTION_SOURCE_VALID = "action_source_valid"
EVENT_TIME_WINDOW = "event_time_window"
UPLOAD_ACCOUNTS_FOR_EVERY_ROW = "accounts_for_every_row"

# Keys of the assets checked (defined in assets.py, which gates its upload on these checks).
CONVERSIONS = dg.AssetKey("pinterest_conversions")
UPLOAD = dg.AssetKey("pinterest_upload")

# Check name -> (description, query): each query selects the offending events.
_SIMPLE_CHECKS = {
    IDENTIFIER_RULE: (
        "Every event has em, or hashed_maids, or both client_ip_address and client_user_agent.",
        q.IDENTIFIER_RULE,
    ),
    NO_CLEAR_TEXT_PII: (
        "Every hashed user_data field (em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, hashed_maids)"
        " is an array of 64-character lowercase hex SHA-256 digests: no clear text leaves the warehouse.",
        q.NO_CLEAR_TEXT_PII,
    ),
    EVENT_ID_UNIQUE: (
        "Every event has an event_id, and no (event_id, event_name) repeats within a day.",
        q.EVENT_ID_UNIQUE,
    ),
    EVENT_NAME_VALID: ("Every event_name is one of Pinterest's event names.", q.EVENT_NAME_VALID),
    ACTION_SOURCE_VALID: ("Every action_source is app_android, app_ios, web or offline.", q.ACTION_SOURCE_VALID),
    EVENT_TIME_WINDOW: (
        "Every event_time is integer seconds within max_event_age before and max_future_skew after the"
        " clock the transform used for the day.",
        q.EVENT_TIME_WINDOW,
    ),
}
_LDP_DESCRIPTION = (
    "Events whose source row is flagged LDP carry custom_data.opt_out_type = LDP exactly (ERROR otherwise);"
    " WARN when LDP is set without hashed st = ca and country = us, where it cannot take effect."
)

CONVERSION_CHECK_SPECS = [
    dg.AssetCheckSpec(name, asset=CONVERSIONS, description=description, blocking=True)
    for name, (description, _) in _SIMPLE_CHECKS.items()
] + [dg.AssetCheckSpec(LDP_FLAGS, asset=CONVERSIONS, description=_LDP_DESCRIPTION, blocking=True)]

BLOCKING_CHECK_KEYS = [spec.key for spec in CONVERSION_CHECK_SPECS]


def checked_days(context: dg.AssetCheckExecutionContext) -> list[date] | None:
    """The run's partition days; None (every day in the database) when the checks run on their own,
    which Dagster does without a partition."""
    if context.has_partition_key or context.has_partition_key_range:
        return [partition_day(key) for key in context.partition_keys]
    return None


@dg.multi_asset_check(
    specs=CONVERSION_CHECK_SPECS,
    can_subset=True,
    pool=PIPELINE_DB_POOL,
    description="Rules every event must meet before it may be sent, checked on event_json as it will be sent.",
)
def conversion_checks(
    context: dg.AssetCheckExecutionContext, pipeline_db: DuckDBResource
) -> Iterator[dg.AssetCheckResult]:
    days = checked_days(context)
    selected = {key.name for key in context.selected_asset_check_keys}
    with pipeline_connection(pipeline_db) as con:
        checked = q.stage_checked_events(con, days)
        for name, (_, query) in _SIMPLE_CHECKS.items():
            if name in selected:
                found = q.find_offenders(con, query, checked)
                yield dg.AssetCheckResult(
                    check_name=name, asset_key=CONVERSIONS, passed=found.offending == 0, metadata=found.metadata()
                )
        if LDP_FLAGS in selected:
            yield _ldp_result(con, checked)


def _ldp_result(con: duckdb.DuckDBPyConnection, checked: int) -> dg.AssetCheckResult:
    malformed = q.find_offenders(con, q.LDP_FLAG_MALFORMED, checked)
    lost = q.find_offenders(con, q.LDP_FLAG_LOST, checked)
    without_effect = q.find_offenders(con, q.LDP_WITHOUT_EFFECT, checked)
    errors = malformed.offending + lost.offending
    metadata = {
        "events_checked": malformed.checked,
        "offending_events": errors,
        "ldp_flag_malformed": malformed.offending,
        "ldp_flag_lost": lost.offending,
        "ldp_without_effect": without_effect.offending,
        "by_day": {
            day: malformed.by_day.get(day, 0) + lost.by_day.get(day, 0)
            for day in sorted(malformed.by_day.keys() | lost.by_day.keys())
        },
        "sample_event_ids": sorted(set(malformed.sample_event_ids + lost.sample_event_ids))[: q.SAMPLE_EVENT_IDS]
        or without_effect.sample_event_ids,
    }
    if errors:
        return dg.AssetCheckResult(check_name=LDP_FLAGS, asset_key=CONVERSIONS, passed=False, metadata=metadata)
    return dg.AssetCheckResult(
        check_name=LDP_FLAGS,
        asset_key=CONVERSIONS,
        passed=without_effect.offending == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description="LDP needs hashed st = ca and country = us to take effect" if without_effect.offending else None,
    )


@dg.asset_check(
    asset=UPLOAD,
    name=UPLOAD_ACCOUNTS_FOR_EVERY_ROW,
    pool=PIPELINE_DB_POOL,
    description=(
        "Every extracted row is accounted for: delivered + failed + rejected by Pinterest + rejected before"
        " send (by reason, duplicate_in_run included) = extracted. Fails while events are still to send."
    ),
)
def upload_accounts_for_every_row(
    context: dg.AssetCheckExecutionContext, pipeline_db: DuckDBResource, pinterest: PinterestResource
) -> dg.AssetCheckResult:
    days = checked_days(context)
    with pipeline_connection(pipeline_db) as con:
        extracted = extracted_rows(con, days)
        before_send = rejects_by_reason(con, days)
        if table_exists(con, EVENTS_TABLE):
            ledger = delivery_accounting(
                con, EVENTS_TABLE, pinterest.ad_account_id, partition_days=days, test=pinterest.test_mode
            )
            delivered, failed, rejected, unsettled = ledger.delivered, ledger.failed, ledger.rejected, ledger.unsettled
        else:
            delivered = failed = rejected = unsettled = 0
    accounted = delivered + failed + rejected + sum(before_send.values())
    return dg.AssetCheckResult(
        passed=accounted == extracted and unsettled == 0,
        metadata={
            "extracted": extracted,
            "delivered": delivered,
            "failed": failed,
            "rejected_by_pinterest": rejected,
            "rejected_before_send": sum(before_send.values()),
            "rejected_before_send_by_reason": dict(sorted(before_send.items())),
            "still_to_send": unsettled,
            "unaccounted": extracted - accounted - unsettled,
        },
    )
