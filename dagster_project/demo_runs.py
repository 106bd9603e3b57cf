"""Runs for `pinterest-pipeline demo`: a Dagster instance of its own, and one run of the daily job
per day, as the schedule launches them, summarized per day."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib import resources as package_files
from pathlib import Path
from typing import Any

import dagster as dg

from dagster_project.checks import CONVERSION_CHECK_SPECS, UPLOAD_ACCOUNTS_FOR_EVERY_ROW
from dagster_project.jobs import pinterest_daily_job
from dagster_project.partitions import daily_partitions

# Warnings and errors only: the demo prints its own summary.
_QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class DaySummary:
    """One partition of the demo, as its run's materializations and check results tell it."""

    day: str
    run_succeeded: bool
    extracted: int = 0
    events: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    already_settled: int = 0
    delivered: int = 0
    failed: int = 0
    checks_passed: list[str] = field(default_factory=list)
    checks_warned: list[str] = field(default_factory=list)
    checks_failed: list[str] = field(default_factory=list)
    uploaded: bool = False
    accounted: bool = False

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())


def open_instance(home: Path) -> dg.DagsterInstance:
    """A persistent Dagster instance in `home`, with the pool limit of the shipped `dagster.yaml`.

    Its runs stay browsable afterwards with `DAGSTER_HOME=<home> dagster dev`.
    """
    home.mkdir(parents=True, exist_ok=True)
    shipped = package_files.files("dagster_project") / "dagster.yaml"
    with package_files.as_file(shipped) as source:
        shutil.copyfile(source, home / "dagster.yaml")
    return dg.DagsterInstance.local_temp(tempdir=str(home))


def last_partition_keys(count: int) -> list[str]:
    """The `count` most recent complete days, oldest first."""
    return list(daily_partitions.get_partition_keys()[-count:])


def run_day(instance: dg.DagsterInstance, partition_key: str, definitions: dg.Definitions) -> DaySummary:
    """Run the daily job (every asset and check) for one day, as the schedule does."""
    job = definitions.resolve_job_def(pinterest_daily_job.name)
    result = job.execute_in_process(
        partition_key=partition_key, instance=instance, run_config=_QUIET_RUN_CONFIG, raise_on_error=False
    )
    summary = DaySummary(day=partition_key, run_succeeded=result.success)
    metadata = _materialization_metadata(result)
    summary.extracted = metadata.get("extract_orders", {}).get("dagster/row_count", 0) + metadata.get(
        "extract_events", {}
    ).get("dagster/row_count", 0)
    conversions = metadata.get("pinterest_conversions", {})
    summary.events = conversions.get("dagster/row_count", 0)
    summary.rejected_by_reason = dict(conversions.get("rejected_by_reason", {}))
    upload = metadata.get("pinterest_upload")
    if upload is not None:
        summary.uploaded = True
        summary.sent = upload["sent"]
        summary.already_settled = upload["already_settled"]
    blocking_names = {spec.name for spec in CONVERSION_CHECK_SPECS}
    for evaluation in result.get_asset_check_evaluations():
        name = evaluation.check_name
        if name == UPLOAD_ACCOUNTS_FOR_EVERY_ROW:
            accounting = {key: value.value for key, value in evaluation.metadata.items()}
            summary.delivered = accounting["delivered"]
            summary.failed = accounting["failed"]
            summary.accounted = evaluation.passed
        elif name in blocking_names:
            if evaluation.passed:
                summary.checks_passed.append(name)
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                summary.checks_warned.append(name)
            else:
                summary.checks_failed.append(name)
    return summary


def _materialization_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Asset name -> its materialization's metadata as plain values."""
    found = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        found[materialization.asset_key.to_user_string()] = {
            key: value.value for key, value in materialization.metadata.items()
        }
    return found
