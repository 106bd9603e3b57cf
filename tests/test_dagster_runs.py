"""Real Dagster runs of the four assets and their checks, against the fake Pinterest API over HTTP.

What a data engineer relies on: a day's events reach Pinterest once, re-materializing sends nothing
new, a backfill range gets correct metadata and deliveries per day, and an empty day is a success
with zeros, not an error.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import dagster as dg
import pytest

from tests.dagster_support import (  # noqa: F401  (fixtures)
    EMPTY_DAY_KEY,
    NOW,
    WAREHOUSE_KEYS,
    check_evaluations,
    day,
    materialization_metadata,
    pipeline,
    warehouse,
)

pytestmark = pytest.mark.slow

UPLOAD_AND_CHECK = dg.AssetSelection.assets("pinterest_upload") | dg.AssetSelection.checks_for_assets(
    "pinterest_upload"
)
UP_TO_CONVERSIONS_AND_CHECKS = dg.AssetSelection.assets(
    "extract_orders", "extract_events", "pinterest_conversions"
) | dg.AssetSelection.checks_for_assets("pinterest_conversions")


def _events_of(pipeline, key: str) -> list[tuple[str, str]]:
    return pipeline.sql(
        "SELECT event_id, event_name FROM pinterest_events WHERE partition_day = $day ORDER BY ALL", {"day": day(key)}
    )


def _extracted(pipeline, key: str) -> int:
    return sum(
        pipeline.sql(f"SELECT count(*) FROM {table} WHERE partition_day = $day", {"day": day(key)})[0][0]
        for table in ("extract_orders", "extract_events")
    )


def test_one_partition_reaches_the_fake_api_once_and_rematerializing_sends_nothing(pipeline):
    key = WAREHOUSE_KEYS[-1]
    first = pipeline.materialize(partition_key=key)

    events = _events_of(pipeline, key)
    received = sorted((e.event_id, e.event_name) for e in pipeline.fake_api.received)
    assert events and received == events
    upload = materialization_metadata(first, "pinterest_upload")[key]
    assert (upload["sent_this_run"], upload["delivered"], upload["failed"], upload["already_settled"]) == (
        len(events),
        len(events),
        0,
        0,
    )
    conversions = materialization_metadata(first, "pinterest_conversions")[key]
    assert conversions["dagster/row_count"] == len(events)
    assert conversions["rows_in"] == _extracted(pipeline, key) == len(events) + conversions["rejected"]
    # Nothing silently ignored: source names sent as `custom` are counted by name, unread columns listed.
    custom_events = pipeline.sql(
        "SELECT count(*) FROM pinterest_events WHERE partition_day = $day AND event_name = 'custom'", {"day": day(key)}
    )[0][0]
    assert conversions["sent_as_custom"] == sum(conversions["sent_as_custom_by_source_name"].values()) == custom_events
    assert conversions["ignored_columns"] == "none"
    evaluations = check_evaluations(first)
    assert all(e.passed or e.severity == dg.AssetCheckSeverity.WARN for e in evaluations.values()), evaluations
    assert evaluations["accounts_for_every_row"].passed

    # The token reaches the fake API, and nothing else: not the event log, not the metadata.
    logged = " ".join(str(record) for record in pipeline.instance.all_logs(first.run_id))
    assert pipeline.fake_api.access_token not in logged

    second = pipeline.materialize(partition_key=key)

    again = materialization_metadata(second, "pinterest_upload")[key]
    assert (again["sent_this_run"], again["already_settled"], again["requests"]) == (0, len(events), 0)
    # The latest materialization shows the day as delivered, not "0 delivered" by this run.
    assert (again["delivered"], again["delivered_this_run"], again["still_to_send"]) == (len(events), 0, 0)
    assert again["summary"] == f"nothing to send: already delivered {len(events):,} (failed 0, rejected 0)"
    assert len(pipeline.fake_api.received) == len(events)
    assert max(pipeline.fake_api.processed_counts().values()) == 1
    # Re-materializing replaced the day's rows instead of adding to them.
    assert _events_of(pipeline, key) == events
    # The event texts are stored with zstd (see pinterest_pipeline.support.storage).
    pipeline.sql("CHECKPOINT")
    storage = pipeline.sql(
        "SELECT DISTINCT compression FROM pragma_storage_info('pinterest_events') WHERE column_name = 'event_json'"
    )
    assert ("ZSTD",) in storage
    assert check_evaluations(second)["accounts_for_every_row"].passed


def test_backfill_range_run_then_one_upload_run_per_day(pipeline):
    """As a backfill launches it: one run for extract + transform + checks over the range (their
    policy is single_run), then one upload run per day (multi_run of 1)."""
    transform_run = pipeline.materialize(
        UP_TO_CONVERSIONS_AND_CHECKS, partition_range=(WAREHOUSE_KEYS[0], WAREHOUSE_KEYS[-1])
    )
    extract_metadata = materialization_metadata(transform_run, "extract_orders")
    conversions = materialization_metadata(transform_run, "pinterest_conversions")
    assert sorted(conversions) == sorted(extract_metadata) == WAREHOUSE_KEYS
    for key in WAREHOUSE_KEYS:
        events = _events_of(pipeline, key)
        assert conversions[key]["dagster/row_count"] == len(events) > 0
        assert conversions[key]["rows_in"] == _extracted(pipeline, key)
        assert conversions[key]["rejected"] == sum(conversions[key]["rejected_by_reason"].values())
        start = extract_metadata[key]["window_start"]
        assert start.startswith(key) and extract_metadata[key]["window_end"] > start

    uploads = {key: pipeline.materialize(UPLOAD_AND_CHECK, partition_key=key) for key in WAREHOUSE_KEYS}

    received = Counter(pipeline.fake_api.processed_counts())
    for key, run in uploads.items():
        events = _events_of(pipeline, key)
        upload = materialization_metadata(run, "pinterest_upload")[key]
        assert (upload["sent_this_run"], upload["delivered"]) == (len(events), len(events))
        assert all(received[event] == 1 for event in events)
        accounting = check_evaluations(run)["accounts_for_every_row"]
        assert accounting.passed, accounting.metadata
        assert accounting.metadata["extracted"].value == _extracted(pipeline, key)
    assert sum(received.values()) == sum(len(_events_of(pipeline, key)) for key in WAREHOUSE_KEYS)


def test_an_empty_day_materializes_with_zeros(pipeline):
    result = pipeline.materialize(partition_key=EMPTY_DAY_KEY)

    assert result.success
    assert materialization_metadata(result, "extract_orders")[EMPTY_DAY_KEY]["dagster/row_count"] == 0
    conversions = materialization_metadata(result, "pinterest_conversions")[EMPTY_DAY_KEY]
    assert (conversions["dagster/row_count"], conversions["rows_in"], conversions["rejected"]) == (0, 0, 0)
    upload = materialization_metadata(result, "pinterest_upload")[EMPTY_DAY_KEY]
    assert (upload["sent_this_run"], upload["delivered"], upload["requests"]) == (0, 0, 0)
    assert upload["summary"] == "no events to send on this day"
    evaluations = check_evaluations(result)
    # A day that extracted nothing is noticed (WARN, never blocking); every other check passes.
    empty = evaluations.pop("rows_extracted")
    assert (empty.passed, empty.severity, empty.metadata["rows_extracted"].value) == (
        False,
        dg.AssetCheckSeverity.WARN,
        0,
    )
    assert all(e.passed for e in evaluations.values())
    assert pipeline.fake_api.requests == []


def test_days_older_than_max_event_age_are_checked_but_nothing_is_sent(pipeline):
    """A backfill of history: ten days later every warehouse day is past the 7-day limit."""
    pipeline.now = NOW + timedelta(days=10)
    key = WAREHOUSE_KEYS[-1]

    result = pipeline.materialize(partition_key=key)

    conversions = materialization_metadata(result, "pinterest_conversions")[key]
    assert conversions["dagster/row_count"] == 0
    assert conversions["rejected_by_reason"]["too_old"] > 0
    assert conversions["rows_in"] == _extracted(pipeline, key) == conversions["rejected"]
    assert all(e.passed or e.severity == dg.AssetCheckSeverity.WARN for e in check_evaluations(result).values())
    upload = materialization_metadata(result, "pinterest_upload")[key]
    assert (upload["sent_this_run"], upload["requests"]) == (0, 0)
    assert pipeline.fake_api.requests == []


def test_a_refused_token_fails_the_upload_at_once_without_retries(pipeline):
    pipeline.access_token = "not-the-right-token"
    key = WAREHOUSE_KEYS[-1]

    result = pipeline.materialize(partition_key=key, raise_on_error=False)

    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["pinterest_upload"]
    message = failures[0].step_failure_data.user_failure_data.description
    assert pipeline.fake_api.ad_account_id in message and "not-the-right-token" not in message
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(pipeline.fake_api.requests) == 1
