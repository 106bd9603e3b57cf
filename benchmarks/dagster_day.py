"""One day partition through every Dagster asset and check, warehouse to fake API, with where its time went.

    python benchmarks/dagster_day.py --rows 1000000 --workdir /dev/shm/bench   # a day, profiled

`run_dagster_day` is the benchmark's `end_to_end` stage. Each step's wall time comes from Dagster's
own event log (step start to step end); with `profile=True` the engine calls the steps make are
wrapped to record their wall and CPU time (`getrusage` of the whole process, DuckDB's threads
included), which is what says whether a step waits, computes on one core or on both.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from measure import DayInput, FakeApiProcess, describe_day, high_water_kib, load_day, prepare_day

MIB = 1024 * 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CallTimes:
    """Wall and CPU seconds of the wrapped engine calls, summed per call name."""

    wall: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    # The process's high-water mark when each call last returned: the first call it jumps after is
    # the one that needed the memory.
    peak_after: dict[str, float] = field(default_factory=dict)

    def wrap(self, owner: Any, name: str, label: str) -> Callable[[], None]:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), _cpu_seconds()
            try:
                return original(*args, **kwargs)
            finally:
                self.wall[label] += time.perf_counter() - wall
                self.cpu[label] += _cpu_seconds() - cpu
                self.peak_after[label] = high_water_kib(os.getpid()) / 1024

        setattr(owner, name, timed)
        return lambda: setattr(owner, name, original)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            label: {
                "wall_s": round(self.wall[label], 2),
                "cpu_s": round(self.cpu[label], 2),
                "peak_rss_mib_after": round(self.peak_after[label], 1),
            }
            for label in self.wall
        }


# (module, attribute, label): the engine calls of each step (a DuckDB-file state's session methods).
_PROFILED_CALLS = (
    ("pinterest_pipeline.dagster.resources", "WarehouseResource.extract", "extract: warehouse query"),
    ("pinterest_pipeline.state.duckdb_file", "DuckDBFileSession.write_day", "store a day (extracts, events, rejects)"),
    ("pinterest_pipeline.dagster.assets", "transform", "conversions: transform"),
    ("pinterest_pipeline.dagster.assets", "conversion_metadata", "conversions: metadata"),
    ("pinterest_pipeline.state.duckdb_file", "DuckDBFileSession.stage_checked_events", "checks: stage checked events"),
    ("pinterest_pipeline.dagster.checks", "q.find_offenders", "checks: offender queries"),
    ("pinterest_pipeline.state.duckdb_file", "DuckDBFileSession.deliver", "upload: deliver"),
    ("pinterest_pipeline.state.duckdb_file", "DuckDBFileSession.delivery_accounting", "upload: day accounting"),
)


@contextmanager
def profiled_calls(times: CallTimes) -> Iterator[None]:
    import importlib

    undo = []
    for module_name, attribute, label in _PROFILED_CALLS:
        owner: Any = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        undo.append(times.wrap(owner, name, label))
    try:
        yield
    finally:
        for restore in reversed(undo):
            restore()


def step_seconds(instance: Any, run_id: str) -> dict[str, float]:
    """Wall seconds of each step of a run, from its event log (start to success or failure)."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        kind = event.event_type_value
        if kind == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
            seconds[event.step_key.split("__")[-1]] = round(entry.timestamp - started[event.step_key], 2)
    return seconds


def run_dagster_day(
    day: DayInput, workdir: Path, *, now: str, latency_ms: float, validate_sample: float, profile: bool = False
) -> dict[str, Any]:
    """Materialize `day`'s partition of every asset and check in one run; seconds, steps, outcome."""
    import dagster as dg

    from pinterest_pipeline.dagster import build_pinterest_defs
    from pinterest_pipeline.fake_api import DEFAULT_ACCESS_TOKEN, DEFAULT_AD_ACCOUNT_ID
    from pinterest_pipeline.support.package_files import sql_path

    home = workdir / "dagster_home"
    home.mkdir(exist_ok=True)
    state = workdir / "e2e_pipeline.duckdb"
    state.unlink(missing_ok=True)
    times = CallTimes()
    with FakeApiProcess(latency_ms=latency_ms, validate_sample=validate_sample) as fake, \
            dg.instance_for_test(temp_dir=str(home)) as instance:
        os.environ["PINTEREST_BENCHMARK_TOKEN"] = DEFAULT_ACCESS_TOKEN
        defs = build_pinterest_defs(
            extracts={name: sql_path(f"{name}.sql") for name in ("extract_orders", "extract_events")},
            warehouse={"path": str(day.warehouse)},
            state=str(state),
            pinterest={
                "ad_account_id": DEFAULT_AD_ACCOUNT_ID,
                "access_token_env": "PINTEREST_BENCHMARK_TOKEN",
                "api_url": fake.url,
            },
            partitions={"start_date": "2020-01-01"},
            fixed_now=now,
        )
        with profiled_calls(times) if profile else _nothing():
            started, cpu = time.perf_counter(), _cpu_seconds()
            result = dg.materialize(
                [*defs.assets, *defs.asset_checks],
                partition_key=day.day.isoformat(),
                instance=instance,
                resources=defs.resources,
                run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            )
            seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        steps = step_seconds(instance, result.run_id)
    upload = {}
    for event in result.get_asset_materialization_events():
        if event.materialization.asset_key == dg.AssetKey("pinterest_upload"):
            upload = {key: value.value for key, value in event.materialization.metadata.items()}
    shutil.rmtree(home, ignore_errors=True)
    state_mib = round(state.stat().st_size / MIB, 1) if state.exists() else None
    state.unlink(missing_ok=True)
    figures = {
        "rows": day.rows,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "success": result.success,
        "delivered": upload.get("delivered"),
        "requests": upload.get("requests"),
        "latency_ms": latency_ms,
        "steps_s": steps,
        "state_file_mib": state_mib,
        # This process's high-water mark (`VmHWM`: `ru_maxrss` would start from the forking parent's).
        "peak_rss_mib": round(high_water_kib(os.getpid()) / 1024, 1),
    }
    if profile:
        figures["calls"] = times.as_dict()
    return figures


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, required=True, help="inputs are generated here once and re-used")
    parser.add_argument("--day-json", type=Path, help="the day to run, as `measure.describe_day` wrote it")
    parser.add_argument("--now", help="the run's clock (ISO-8601; default: now)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--validate-sample", type=float, default=0.05)
    parser.add_argument("--profile", action="store_true", help="time the engine calls of each step")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    from datetime import datetime, timezone

    args.workdir.mkdir(parents=True, exist_ok=True)
    day = load_day(args.day_json) if args.day_json else reuse_or_prepare_day(args.workdir, args.rows)
    now = args.now or datetime.now(timezone.utc).isoformat()
    figures = run_dagster_day(
        day, args.workdir, now=now, latency_ms=args.latency_ms, validate_sample=args.validate_sample,
        profile=args.profile,
    )
    text = json.dumps(figures, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0 if figures["success"] else 1


def reuse_or_prepare_day(workdir: Path, rows: int) -> DayInput:
    """The day of `rows` rows in `workdir` that an earlier call prepared, or a new one."""
    described = workdir / f"day_{rows}.json"
    if described.exists():
        day = load_day(described)
        if day.warehouse.exists() and day.parquet.exists():
            return day
    day = prepare_day(workdir, rows)
    describe_day(day, workdir)
    return day


if __name__ == "__main__":
    sys.exit(main())
