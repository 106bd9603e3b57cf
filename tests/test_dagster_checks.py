"""The checks, each shown failing on crafted bad data, and the upload gate.

The transform never produces such events, so each case takes a correctly transformed day and breaks
one event in the pipeline database, the way a bug or a hand edit would; then only the checks run.
Each case expects exactly that event to be reported, by id, and every other check to keep its
result. A failing blocking check must keep the upload from sending anything, whether the upload
shares the run with the checks or runs on its own.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import dagster as dg
import pytest

from pinterest_pipeline.dagster.checks import blocking_check_keys
from pinterest_pipeline.fake_api import FakePinterestApi
from tests.dagster_support import (  # noqa: F401  (fixtures)
    NOW,
    WAREHOUSE_KEYS,
    Pipeline,
    check_evaluations,
    materialization_metadata,
    pipeline,
    warehouse,
)

pytestmark = pytest.mark.slow

KEY = WAREHOUSE_KEYS[-1]
BLOCKING_CHECK_KEYS = blocking_check_keys(dg.AssetKey("pinterest_conversions"))
CONVERSION_CHECKS = dg.AssetSelection.checks(*BLOCKING_CHECK_KEYS)
UP_TO_CONVERSIONS = dg.AssetSelection.assets(
    "extract_orders", "extract_events", "pinterest_conversions"
).without_checks()
UPLOAD = dg.AssetSelection.assets("pinterest_upload").without_checks()
UPLOAD_CHECK = dg.AssetSelection.checks_for_assets("pinterest_upload")
CLEAR_EMAIL = "jane.doe@example.com"

# The event every case breaks: the day's first event that has an email.
_VICTIM = """partition_day = $day AND source_row = (
    SELECT min(source_row) FROM pinterest_events
    WHERE partition_day = $day AND json_array_length(event_json, '$.user_data.em') > 0)"""


def _patch(patch: dict) -> str:
    """SQL merging `patch` into the victim's event_json (a null value removes the key)."""
    return (
        f"UPDATE pinterest_events SET event_json = json_merge_patch(event_json, '{json.dumps(patch)}') WHERE {_VICTIM}"
    )


def _flag_source_rows_ldp(table: str) -> str:
    """SQL flagging the victim's source rows in an extract table LDP."""
    return (
        f"UPDATE {table} SET opt_out_type = 'LDP' WHERE trim(CAST(event_id AS VARCHAR)) = "
        f"(SELECT event_id FROM pinterest_events WHERE {_VICTIM})"
    )


BREAKAGES = [
    # (check that must fail, why, SQL that breaks the victim event)
    (
        "identifier_rule",
        "no identifier left",
        _patch({"user_data": {"em": None, "hashed_maids": None, "client_ip_address": None}}),
    ),
    ("no_clear_text_pii", "clear-text email", _patch({"user_data": {"em": [CLEAR_EMAIL]}})),
    (
        "no_clear_text_pii",
        "upper-case digest",
        "UPDATE pinterest_events SET event_json = replace(event_json,"
        " json_extract_string(event_json, '$.user_data.em[0]'),"
        f" upper(json_extract_string(event_json, '$.user_data.em[0]'))) WHERE {_VICTIM}",
    ),
    ("no_clear_text_pii", "hash as a bare string", _patch({"user_data": {"ph": "0" * 64}})),
    ("event_id_unique", "event twice", f"INSERT INTO pinterest_events SELECT * FROM pinterest_events WHERE {_VICTIM}"),
    ("event_name_valid", "raw source name", _patch({"event_name": "Order Completed"})),
    ("action_source_valid", "unknown action source", _patch({"action_source": "kiosk"})),
    ("event_time_window", "in the future", _patch({"event_time": int((NOW + timedelta(hours=1)).timestamp())})),
    ("event_time_window", "older than 7 days", _patch({"event_time": int((NOW - timedelta(days=8)).timestamp())})),
    ("event_time_window", "milliseconds", _patch({"event_time": int(NOW.timestamp()) * 1000})),
    ("ldp_flags", "lower-case ldp", _patch({"custom_data": {"opt_out_type": "ldp"}})),
    (
        "ldp_flags",
        "flag lost on the way",
        [
            _patch({"custom_data": {"opt_out_type": None}}),
            _flag_source_rows_ldp("extract_orders"),
            _flag_source_rows_ldp("extract_events"),
        ],
    ),
]


@pytest.fixture(scope="module")
def transformed_day(tmp_path_factory, warehouse):
    """The pipeline database after a clean extract + transform of KEY, and the checks' results on it."""
    root = tmp_path_factory.mktemp("transformed")
    with dg.instance_for_test() as instance, FakePinterestApi() as fake_api:
        clean = Pipeline(instance, fake_api, root / "pipeline.duckdb", warehouse)
        result = clean.materialize(UP_TO_CONVERSIONS | CONVERSION_CHECKS, partition_key=KEY)
    return clean.state, check_evaluations(result)


def _pipeline_on_copy(pipeline: Pipeline, state) -> Pipeline:
    shutil.copyfile(state, pipeline.state)
    return pipeline


def _victim_event_id(pipeline: Pipeline) -> str:
    query = f"SELECT event_id FROM pinterest_events WHERE {_VICTIM}"
    return pipeline.sql(query, {"day": WAREHOUSE_KEYS[-1]})[0][0]


def test_clean_day_passes_every_check(transformed_day):
    _, baseline = transformed_day
    assert set(baseline) == {key.name for key in BLOCKING_CHECK_KEYS}
    # Every check passes outright, except that ldp_flags may WARN (never fail) about LDP without st/country.
    assert {name: e.passed for name, e in baseline.items() if name != "ldp_flags"} == dict.fromkeys(
        set(baseline) - {"ldp_flags"}, True
    )
    ldp = baseline["ldp_flags"]
    without_effect = ldp.metadata["ldp_without_effect"].value
    assert (ldp.metadata["ldp_flag_malformed"].value, ldp.metadata["ldp_flag_lost"].value) == (0, 0)
    assert (ldp.passed, ldp.severity) == (without_effect == 0, dg.AssetCheckSeverity.WARN)
    for evaluation in baseline.values():
        assert evaluation.metadata["events_checked"].value > 0


@pytest.mark.parametrize(("check", "why", "breakage"), BREAKAGES, ids=[f"{c}: {w}" for c, w, _ in BREAKAGES])
def test_each_check_reports_the_broken_event(pipeline, transformed_day, check, why, breakage):
    state, baseline = transformed_day
    _pipeline_on_copy(pipeline, state)
    victim = _victim_event_id(pipeline)
    for statement in [breakage] if isinstance(breakage, str) else breakage:
        pipeline.sql(statement, {"day": WAREHOUSE_KEYS[-1]})

    # Run on their own, as from the UI, the checks have no partition and check every day there is.
    evaluations = check_evaluations(pipeline.materialize(CONVERSION_CHECKS, raise_on_error=False))

    failed = evaluations[check]
    assert (failed.passed, failed.severity) == (False, dg.AssetCheckSeverity.ERROR)
    metadata = {name: value.value for name, value in failed.metadata.items()}
    assert (metadata["offending_events"], metadata["sample_event_ids"]) == (1, [victim])
    assert CLEAR_EMAIL not in json.dumps(metadata, default=str)
    others = {name: e.passed for name, e in evaluations.items() if name != check}
    assert others == {name: e.passed for name, e in baseline.items() if name != check}


def test_ldp_without_state_and_country_warns_and_does_not_block(pipeline):
    pipeline.materialize(UP_TO_CONVERSIONS, partition_key=KEY)
    pipeline.sql(
        _patch({"custom_data": {"opt_out_type": "LDP"}, "user_data": {"st": None}}), {"day": WAREHOUSE_KEYS[-1]}
    )

    result = pipeline.materialize(CONVERSION_CHECKS | UPLOAD, partition_key=KEY)

    ldp = check_evaluations(result)["ldp_flags"]
    assert (ldp.passed, ldp.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert ldp.metadata["ldp_without_effect"].value >= 1
    assert materialization_metadata(result, "pinterest_upload")[KEY]["delivered"] > 0


def test_a_failing_blocking_check_keeps_the_upload_from_sending(pipeline):
    pipeline.materialize(UP_TO_CONVERSIONS | CONVERSION_CHECKS, partition_key=KEY)
    pipeline.sql(_patch({"user_data": {"em": [CLEAR_EMAIL]}}), {"day": KEY})

    # In the same run, Dagster skips the upload after the blocking check fails.
    same_run = pipeline.materialize(CONVERSION_CHECKS | UPLOAD, partition_key=KEY, raise_on_error=False)
    assert not check_evaluations(same_run)["no_clear_text_pii"].passed
    assert materialization_metadata(same_run, "pinterest_upload") == {}

    # In a run of its own, the upload finds the failed evaluation and refuses.
    own_run = pipeline.materialize(UPLOAD, partition_key=KEY, raise_on_error=False)
    assert not own_run.success
    failure = own_run.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert failure.startswith("not sending: no_clear_text_pii failed for " + KEY)
    assert pipeline.fake_api.requests == []

    # Re-transforming the day without re-checking it is not enough either.
    pipeline.materialize(UP_TO_CONVERSIONS, partition_key=KEY)
    stale = pipeline.materialize(UPLOAD, partition_key=KEY, raise_on_error=False)
    assert not stale.success
    assert pipeline.fake_api.requests == []

    # Checked again (on their own, so over every day), the day goes out.
    pipeline.materialize(CONVERSION_CHECKS)
    sent = pipeline.materialize(UPLOAD, partition_key=KEY)
    assert materialization_metadata(sent, "pinterest_upload")[KEY]["delivered"] == len(pipeline.fake_api.received) > 0


@pytest.fixture(scope="module")
def delivered_day(tmp_path_factory, warehouse):
    """The pipeline database after KEY was materialized and sent in full."""
    root = tmp_path_factory.mktemp("delivered")
    with dg.instance_for_test() as instance, FakePinterestApi() as fake_api:
        Pipeline(instance, fake_api, root / "pipeline.duckdb", warehouse).materialize(partition_key=KEY)
    return root / "pipeline.duckdb"


UPLOAD_BREAKAGES = [
    # (why, SQL, the metadata value that must show it)
    (
        "a row extracted but neither sent nor rejected",
        "INSERT INTO extract_orders SELECT * FROM extract_orders LIMIT 1",
        "unaccounted",
    ),
    (
        "an event still to send",
        "UPDATE delivery_ledger SET status = 'failed_retryable' WHERE seq = (SELECT min(seq) FROM delivery_ledger)",
        "still_to_send",
    ),
]


@pytest.mark.parametrize(("why", "breakage", "shown_in"), UPLOAD_BREAKAGES, ids=[why for why, _, _ in UPLOAD_BREAKAGES])
def test_upload_check_accounts_for_every_extracted_row(pipeline, delivered_day, why, breakage, shown_in):
    _pipeline_on_copy(pipeline, delivered_day)
    before = check_evaluations(pipeline.materialize(UPLOAD_CHECK))["accounts_for_every_row"]
    pipeline.sql(breakage)

    after = check_evaluations(pipeline.materialize(UPLOAD_CHECK, raise_on_error=False))["accounts_for_every_row"]

    assert before.passed and before.metadata[shown_in].value == 0
    assert not after.passed and after.metadata[shown_in].value == 1


def test_a_day_that_fails_its_checks_does_not_hold_back_the_others(pipeline):
    """A backfill checks its whole range at once; the per-day uploads that follow must refuse only
    the day with offending events."""
    pipeline.materialize(UP_TO_CONVERSIONS, partition_range=(WAREHOUSE_KEYS[0], WAREHOUSE_KEYS[-1]))
    pipeline.sql(_patch({"user_data": {"em": [CLEAR_EMAIL]}}), {"day": WAREHOUSE_KEYS[-1]})
    checks = pipeline.materialize(CONVERSION_CHECKS, raise_on_error=False)
    assert check_evaluations(checks)["no_clear_text_pii"].metadata["by_day"].value == {WAREHOUSE_KEYS[-1]: 1}

    uploads = {key: pipeline.materialize(UPLOAD, partition_key=key, raise_on_error=False) for key in WAREHOUSE_KEYS}

    assert [uploads[key].success for key in WAREHOUSE_KEYS] == [True, True, False]
    sent_days = pipeline.sql(
        "SELECT DISTINCT partition_day::VARCHAR FROM delivery_ledger WHERE status = 'delivered' ORDER BY 1"
    )
    assert sent_days == [(key,) for key in WAREHOUSE_KEYS[:-1]]
