"""The upload's gate: send a day only if every blocking check passed on that day's current events.

Dagster's blocking checks stop downstream assets only within the run that evaluated them. An upload
launched on its own (a per-day backfill run after a single-run transform, a manual materialization,
a retry) would otherwise send whatever `pinterest_conversions` holds, checked or not. So the upload
asks the instance, for each of its partitions: which run wrote the current `pinterest_conversions`
materialization, and did the latest evaluation of each blocking check that covered the partition,
in that run or later, pass?
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import dagster as dg

# Run tags Dagster sets on partitioned runs: one partition, or a range run (single-run backfills).
_PARTITION_TAG = "dagster/partition"
_RANGE_START_TAG = "dagster/asset_partition_range_start"
_RANGE_END_TAG = "dagster/asset_partition_range_end"
_HISTORY_PAGE = 100


def refusals(
    instance: dg.DagsterInstance,
    asset_key: dg.AssetKey,
    check_keys: Iterable[dg.AssetCheckKey],
    partition_key: str,
) -> list[str]:
    """Why `partition_key` may not be sent; empty when every blocking check passed on its current data."""
    materializations = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition_key]), limit=1
    ).records
    if not materializations:
        return [f"{asset_key.to_user_string()} has not been materialized for {partition_key}"]
    materialization_run = instance.get_run_record_by_id(materializations[0].run_id)
    not_before = (
        materialization_run.create_timestamp.timestamp() if materialization_run else materializations[0].timestamp
    )
    runs = _RunCoverage(instance)
    problems = []
    for check_key in check_keys:
        record = _latest_covering_evaluation(
            instance, check_key, partition_key, materializations[0].run_id, not_before, runs
        )
        if record is None:
            problems.append(f"{check_key.name} has not been evaluated on the current data of {partition_key}")
            continue
        evaluation = record.event.asset_check_evaluation if record.event else None
        if evaluation is None:
            problems.append(f"{check_key.name} did not finish for {partition_key} ({record.status.value.lower()})")
        elif (
            not evaluation.passed
            and evaluation.severity == dg.AssetCheckSeverity.ERROR
            and _offends_on(evaluation, partition_key)
        ):
            problems.append(f"{check_key.name} failed for {partition_key}")
    return problems


def _offends_on(evaluation: dg.AssetCheckEvaluation, partition_key: str) -> bool:
    """Whether a failed evaluation found offending events on this day. An evaluation over several
    days (a backfill range, checks run on their own) lists the days in its `by_day` metadata, so one
    bad day does not hold back the others; without that list, every day it covered is suspect."""
    by_day = evaluation.metadata.get("by_day")
    return by_day is None or partition_key in by_day.value


def _latest_covering_evaluation(
    instance: dg.DagsterInstance,
    check_key: dg.AssetCheckKey,
    partition_key: str,
    materialization_run_id: str,
    not_before: float,
    runs: _RunCoverage,
):
    # Newest first; stop at records older than the run that wrote the current data. Evaluations of
    # that run itself always count: the storage keeps check timestamps at a coarser precision than
    # run timestamps, so within the same second they may compare as older.
    cursor = None
    while True:
        page = instance.event_log_storage.get_asset_check_execution_history(
            check_key, limit=_HISTORY_PAGE, cursor=cursor
        )
        for record in page:
            if record.run_id != materialization_run_id and record.create_timestamp < not_before:
                return None
            if runs.covers(record.run_id, partition_key):
                return record
        if len(page) < _HISTORY_PAGE:
            return None
        cursor = page[-1].id


class _RunCoverage:
    """Which partitions a run's checks covered, from its tags; runs are looked up once each."""

    def __init__(self, instance: dg.DagsterInstance):
        self._instance = instance
        self._tags: dict[str, dict[str, str]] = {}

    def covers(self, run_id: str, partition_key: str) -> bool:
        if run_id not in self._tags:
            run = self._instance.get_run_by_id(run_id)
            self._tags[run_id] = dict(run.tags) if run else {}
        tags = self._tags[run_id]
        if _PARTITION_TAG in tags:
            return tags[_PARTITION_TAG] == partition_key
        if _RANGE_START_TAG in tags and _RANGE_END_TAG in tags:
            # Daily keys are ISO dates, so string order is date order.
            return tags[_RANGE_START_TAG] <= partition_key <= tags[_RANGE_END_TAG]
        # Checks run on their own have no partition, and then check every day in the database.
        return True


def refusal_message(problems: Sequence[str], asset_key: dg.AssetKey) -> str:
    return (
        "not sending: "
        + "; ".join(problems)
        + f". Re-materialize {asset_key.to_user_string()} with its checks, then the upload."
    )
