"""The Dagster side of `pinterest-pipeline demo`: the project it writes, and its runs.

The demo writes a small `dg` project the user opens with `dagster dev` and can copy: the
component's `defs.yaml` and the two extract SQL files, pointed at the sample warehouse and the
local fake API. It then loads that very project, as `dagster dev` does, and runs the daily job for
each day in a Dagster instance of its own. The last day is extracted, transformed and checked but
left unsent, so an upload launched from the UI sends something.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from pinterest_pipeline.dagster.checks import BLOCKING_CHECK_NAMES, UPLOAD_ACCOUNTS_FOR_EVERY_ROW
from pinterest_pipeline.dagster.names import InstanceNames
from pinterest_pipeline.dagster.scaffolder import SQL_TEMPLATES
from pinterest_pipeline.dagster.settings import DEFAULT_POOL
from pinterest_pipeline.support.package_files import sql_path

PROJECT_MODULE = "pinterest_demo"
COMPONENT_NAME = "pinterest"
TOKEN_ENV = "PINTEREST_ACCESS_TOKEN"
# Warnings and errors only: the demo prints its own summary.
_QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

_PYPROJECT = """\
# A Dagster project written by `pinterest-pipeline demo`: `dagster dev` here opens it.
[project]
name = "pinterest-demo"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["pinterest-pipeline"]

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "{module}"
code_location_name = "pinterest_pipeline"
"""

_DEFINITIONS = """\
from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
"""

_DEFS_YAML = """\
# The pipeline of `pinterest-pipeline demo`: the sample warehouse, the local fake Pinterest API
# (`pinterest-pipeline fake-api --port {port}`) and a pipeline database in this project.
type: pinterest_pipeline.dagster.PinterestConversionsComponent

attributes:
  group_name: pinterest
  partitions: {{start_date: "{start_date}", timezone: UTC}}
  extracts:
    extract_orders: extract_orders.sql
    extract_events: extract_events.sql
  warehouse: {{path: {warehouse}}}
  state: {state}
  pinterest:
    ad_account_id: "{ad_account_id}"
    access_token_env: {token_env}   # the fake API's fixed token, in .env
    api_url: http://127.0.0.1:{port}
  settings: {{taxonomy: default}}
  schedule: {{hour_of_day: 2, minute_of_hour: 0}}
"""


@dataclass(frozen=True)
class DemoProject:
    """The project directory the demo writes, and the files in it."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def state(self) -> Path:
        return self.root / "pipeline.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def component_dir(self) -> Path:
        return self.root / PROJECT_MODULE / "defs" / COMPONENT_NAME

    def write(self, start_date: date, ad_account_id: str, access_token: str, port: int) -> None:
        """(Re)write the project's files; the data files (warehouse, state, instance) are kept."""
        package = self.root / PROJECT_MODULE
        self.component_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "pyproject.toml").write_text(_PYPROJECT.format(module=PROJECT_MODULE), encoding="utf-8")
        for init in (package / "__init__.py", package / "defs" / "__init__.py"):
            init.touch()
        (package / "definitions.py").write_text(_DEFINITIONS, encoding="utf-8")
        (self.component_dir / "defs.yaml").write_text(
            _DEFS_YAML.format(
                start_date=start_date.isoformat(),
                warehouse=self.warehouse.name,
                state=self.state.name,
                ad_account_id=ad_account_id,
                token_env=TOKEN_ENV,
                port=port,
            ),
            encoding="utf-8",
        )
        for template in SQL_TEMPLATES:
            shutil.copyfile(sql_path(template), self.component_dir / template)
        (self.root / ".env").write_text(
            "# Written by `pinterest-pipeline demo`: the local fake API's fixed token, not a secret.\n"
            f"{TOKEN_ENV}={access_token}\n",
            encoding="utf-8",
        )

    def load_definitions(self) -> dg.Definitions:
        """The project's definitions, loaded from its defs folder as `dagster dev` loads them."""
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))
        return dg.load_from_defs_folder(project_root=self.root)

    def open_instance(self) -> dg.DagsterInstance:
        """A persistent Dagster instance in `dagster_home`, its runs browsable afterwards with
        `DAGSTER_HOME=dagster_home dagster dev`; the pool of the steps that open the pipeline's DuckDB
        file is limited to one step at a time, as the README tells every deployment to do."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        (self.dagster_home / "dagster.yaml").touch()
        instance = dg.DagsterInstance.local_temp(tempdir=str(self.dagster_home))
        instance.event_log_storage.set_concurrency_slots(DEFAULT_POOL, 1)
        return instance


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


def run_day(
    instance: dg.DagsterInstance, definitions: dg.Definitions, partition_key: str, *, upload: bool = True
) -> DaySummary:
    """Run the daily job for one day, as the schedule does; without `upload`, everything but the upload."""
    names = InstanceNames()
    job = definitions.resolve_job_def(names.job)
    selection = None
    if not upload:
        selection = [key for key in job.asset_layer.executable_asset_keys if key != names.asset_key("pinterest_upload")]
    result = job.execute_in_process(
        partition_key=partition_key,
        instance=instance,
        run_config=_QUIET_RUN_CONFIG,
        raise_on_error=False,
        asset_selection=selection,
    )
    summary = DaySummary(day=partition_key, run_succeeded=result.success)
    metadata = _materialization_metadata(result)
    summary.extracted = sum(
        values.get("dagster/row_count", 0) for name, values in metadata.items() if name.startswith("extract_")
    )
    conversions = metadata.get("pinterest_conversions", {})
    summary.events = conversions.get("dagster/row_count", 0)
    summary.rejected_by_reason = dict(conversions.get("rejected_by_reason", {}))
    uploaded = metadata.get("pinterest_upload")
    if uploaded is not None:
        summary.uploaded = True
        summary.sent = uploaded["sent_this_run"]
        summary.already_settled = uploaded["already_settled"]
        summary.delivered = uploaded["delivered"]
        summary.failed = uploaded["failed"]
    for evaluation in result.get_asset_check_evaluations():
        name = evaluation.check_name
        if name == UPLOAD_ACCOUNTS_FOR_EVERY_ROW:
            summary.accounted = evaluation.passed
        elif name in BLOCKING_CHECK_NAMES:
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
        found[materialization.asset_key.path[-1]] = {
            key: value.value for key, value in materialization.metadata.items()
        }
    return found
