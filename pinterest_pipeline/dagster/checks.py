"""Asset checks of one pipeline instance: what must hold before a day's events may leave, and that
the upload lost nothing.

The checks on the conversions asset are blocking: in a run that also holds the upload, a failure
(ERROR severity) keeps the upload from running, and an upload in a run of its own asks `check_gate`
the same question first. `ldp_flags` fails with WARN severity when LDP is set where it cannot take
effect (no hashed st=ca and country=us): those events are still sent, as Pinterest accepts them, and
the day is not blocked. `rows_extracted` is not blocking: it warns when a day extracted nothing, so a
broken extract is noticed.

All checks of the conversions asset run as one op over one connection to the pipeline database.
"""

from collections.abc import Iterator
from datetime import date

import dagster as dg
import duckdb

from pinterest_pipeline import check_queries as q
from pinterest_pipeline.dagster.instance import STATE, PipelineInstance
from pinterest_pipeline.dagster.partitions import partition_day
from pinterest_pipeline.delivery import deliver_per_account
from pinterest_pipeline.delivery.accounts import ACCOUNT_COLUMN
from pinterest_pipeline.pipeline_tables import EVENTS_TABLE

IDENTIFIER_RULE = "identifier_rule"
LDP_FLAGS = "ldp_flags"
NO_CLEAR_TEXT_PII = "no_clear_text_pii"
EVENT_ID_UNIQUE = "event_id_unique"
EVENT_NAME_VALID = "event_name_valid"
ACTION_SOURCE_VALID = "action_source_valid"
EVENT_TIME_WINDOW = "event_time_window"
ROWS_EXTRACTED = "rows_extracted"
UPLOAD_ACCOUNTS_FOR_EVERY_ROW = "accounts_for_every_row"

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
_ROWS_EXTRACTED_DESCRIPTION = "WARN (never blocking) when a day's extracts returned no rows: is the extract SQL right?"
BLOCKING_CHECK_NAMES = (*_SIMPLE_CHECKS, LDP_FLAGS)
# What accounting for the day's events against the ledger reads (not the event texts).
_ACCOUNTED_COLUMNS = ("partition_day", "source_row", "event_id", "event_name")


def conversion_check_specs(conversions: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    specs = [
        dg.AssetCheckSpec(name, asset=conversions, description=description, blocking=True)
        for name, (description, _) in _SIMPLE_CHECKS.items()
    ]
    specs.append(dg.AssetCheckSpec(LDP_FLAGS, asset=conversions, description=_LDP_DESCRIPTION, blocking=True))
    specs.append(dg.AssetCheckSpec(ROWS_EXTRACTED, asset=conversions, description=_ROWS_EXTRACTED_DESCRIPTION))
    return specs


def blocking_check_keys(conversions: dg.AssetKey) -> list[dg.AssetCheckKey]:
    return [dg.AssetCheckKey(conversions, name) for name in BLOCKING_CHECK_NAMES]


def checked_days(context: dg.AssetCheckExecutionContext) -> list[date] | None:
    """The run's partition days; None (every day in the database) when the checks run on their own,
    which Dagster does without a partition."""
    if context.has_partition_key or context.has_partition_key_range:
        return [partition_day(key) for key in context.partition_keys]
    return None


def build_conversion_checks(instance: PipelineInstance) -> dg.AssetChecksDefinition:
    conversions = instance.conversions_spec.key

    @dg.multi_asset_check(
        name="__".join([*instance.names.key_prefix, "conversion_checks"]),
        specs=conversion_check_specs(conversions),
        can_subset=True,
        pool=instance.pool,
        required_resource_keys={instance.resource_key(STATE)},
        description="Rules every event must meet before it may be sent, checked on event_json as it will be sent.",
    )
    def _conversion_checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        days = checked_days(context)
        selected = {key.name for key in context.selected_asset_check_keys}
        with instance.resource(context, STATE).session() as session:
            con = session.con
            checked = session.stage_checked_events(days, instance.extract_tables)
            for name, (_, query) in _SIMPLE_CHECKS.items():
                if name in selected:
                    found = q.find_offenders(con, query, checked)
                    yield dg.AssetCheckResult(
                        check_name=name, asset_key=conversions, passed=found.offending == 0, metadata=found.metadata()
                    )
            if LDP_FLAGS in selected:
                yield _ldp_result(con, checked, conversions)
            if ROWS_EXTRACTED in selected:
                yield _rows_extracted_result(session.extracted_rows(instance.extract_tables, days), conversions)

    return _conversion_checks


def _ldp_result(con: duckdb.DuckDBPyConnection, checked: int, conversions: dg.AssetKey) -> dg.AssetCheckResult:
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
        return dg.AssetCheckResult(check_name=LDP_FLAGS, asset_key=conversions, passed=False, metadata=metadata)
    return dg.AssetCheckResult(
        check_name=LDP_FLAGS,
        asset_key=conversions,
        passed=without_effect.offending == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description="LDP needs hashed st = ca and country = us to take effect" if without_effect.offending else None,
    )


def _rows_extracted_result(rows: int, conversions: dg.AssetKey) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=ROWS_EXTRACTED,
        asset_key=conversions,
        passed=rows > 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows_extracted": rows},
        description=None if rows else "no rows extracted: check the extract SQL and the warehouse",
    )


def build_upload_check(instance: PipelineInstance) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=instance.upload_spec.key,
        name=UPLOAD_ACCOUNTS_FOR_EVERY_ROW,
        pool=instance.upload_pool,
        required_resource_keys={instance.resource_key(r) for r in (STATE, *instance.api_roles)},
        description=(
            "Every extracted row is accounted for: delivered + failed + rejected by Pinterest + rejected before"
            " send (by reason, duplicate_in_run included) = extracted. Fails while events are still to send."
        ),
    )
    def _accounts_for_every_row(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        days = checked_days(context)
        targets = instance.targets(context)
        with instance.resource(context, STATE).session() as session:
            extracted = session.extracted_rows(instance.extract_tables, days)
            before_send = session.rejects_by_reason(days)
            if session.table_exists(EVENTS_TABLE):
                columns = (*_ACCOUNTED_COLUMNS, ACCOUNT_COLUMN) if instance.accounts else _ACCOUNTED_COLUMNS
                events = session.stage_events(days, "checked_pinterest_events", columns=columns)
                # Each account's events against its own ledger rows (one account: the whole table).
                per_account = deliver_per_account(
                    session.con,
                    events,
                    targets,
                    lambda table, target: session.delivery_accounting(
                        table, target.ad_account_id, partition_days=days, test=target.test_mode
                    ),
                    partition_days=days,
                )
                ledgers = per_account.values()
                delivered, failed, rejected, unsettled = (
                    sum(ledger.delivered for ledger in ledgers),
                    sum(ledger.failed for ledger in ledgers),
                    sum(ledger.rejected for ledger in ledgers),
                    sum(ledger.unsettled for ledger in ledgers),
                )
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

    return _accounts_for_every_row
