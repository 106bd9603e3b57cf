"""The performance benchmarks (benchmarks/README.md), measured in one run, printed and saved as JSON.

    python benchmarks/run.py                  # 1M-row day, 10M-row day for memory (takes several minutes)
    python benchmarks/run.py --quick          # 100k-row day, 1M-row "big" day: a quick look
    python benchmarks/run.py --only transform baseline equivalence

Stages (each runs on its own; one that fails is reported with its error and the others still run):

- `transform`: `pinterest-pipeline transform DAY.parquet --out EVENTS.ndjson ...` as a child process
  on one day of the sample warehouse (startup and writing the NDJSON included): rows/s, peak memory.
- `baseline`: the straightforward pandas + hashlib + json.dumps implementation (`naive_baseline.py`)
  on an evenly spaced sample of the same day, timed in-process from reading to writing (its start-up
  not charged): rows/s, and the engine's ratio to it.
- `equivalence`: engine and baseline on the same sample; events compared as parsed JSON per event_id.
- `send`: the day's events delivered to the fake API (its own process, 50 ms latency per request).
- `end_to_end`: the day's partition through every Dagster asset and check, from the warehouse to the
  fake API, in one `dg.materialize` run.
- `memory`: a `--big-rows` day through the CLI transform: peak resident memory, and how time and
  memory grow from the `--rows` day.

Results go to `benchmarks/results/<UTC time>.json`. This is not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
from measure import DayInput, FakeApiProcess, count_lines, prepare_day, run_child, sample_rows

from pinterest_pipeline.config import PipelineConfig, build_config

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 1024 * 1024
# The targets (benchmarks/README.md).
TARGET_TRANSFORM_ROWS_PER_S = 300_000
TARGET_RATIO = 12
TARGET_SEND_EVENTS_PER_S = 50_000
TARGET_END_TO_END_S = 30
TARGET_PEAK_RSS_BYTES = 1024 * MIB


class Benchmark:
    """The shared state of one benchmark run: options, work directory, the run's clock, inputs."""

    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.now = datetime.now(timezone.utc)
        self.config: PipelineConfig = build_config(concurrency=args.concurrency)
        self.results: dict[str, dict[str, Any]] = {}
        self._days: dict[int, DayInput] = {}
        self._sample: tuple[Path, int] | None = None

    def day(self, rows: int) -> DayInput:
        """The day of `rows` rows, generated and extracted once per run."""
        if rows not in self._days:
            self._days[rows] = prepare_day(self.workdir, rows)
        return self._days[rows]

    def sample(self) -> tuple[Path, int]:
        """The baseline's evenly spaced sample of the main day: (Parquet path, rows)."""
        if self._sample is None:
            path = self.workdir / "sample.parquet"
            self._sample = path, sample_rows(self.day(self.args.rows).parquet, path, self.args.baseline_rows)
        return self._sample

    def cli_transform(self, day: DayInput, name: str) -> dict[str, Any]:
        """The CLI transform of one day in a child process: time, memory, output size."""
        events, rejects = self.workdir / f"{name}.events.ndjson", self.workdir / f"{name}.rejects.ndjson"
        run = run_child(
            [sys.executable, "-m", "pinterest_pipeline", "transform", str(day.parquet), "--out", str(events),
             "--rejected", str(rejects), "--now", self.now.isoformat()],
            self.workdir,
        )
        if run.returncode != 0:
            raise RuntimeError(f"transform exited {run.returncode}: {_last_line(run.stderr)}")
        event_count = count_lines(events)
        figures = {
            "rows": day.rows,
            "seconds": round(run.seconds, 2),
            "rows_per_s": round(day.rows / run.seconds),
            "events": event_count,
            "rejects": count_lines(rejects),
            "bytes_per_event": round(events.stat().st_size / max(event_count, 1)),
            "peak_rss_mib": round(run.peak_rss_bytes / MIB, 1),
            "warehouse_generate_seconds": round(day.generate_seconds, 2),
            "extract_seconds": round(day.extract_seconds, 2),
        }
        events.unlink()
        rejects.unlink()
        return figures


def stage_transform(bench: Benchmark) -> dict[str, Any]:
    return bench.cli_transform(bench.day(bench.args.rows), "transform")


def stage_baseline(bench: Benchmark) -> dict[str, Any]:
    from naive_baseline import run_baseline

    sample, rows = bench.sample()
    result = run_baseline(sample, bench.workdir / "baseline.events.ndjson", bench.workdir / "baseline.rejects.ndjson",
                          bench.config, bench.now)
    figures = {
        "rows": rows,
        "seconds": round(result.seconds, 2),
        "rows_per_s": round(rows / result.seconds),
        "events": len(result.events),
    }
    engine = bench.results.get("transform", {})
    if "rows_per_s" in engine:
        figures["engine_ratio"] = round(engine["rows_per_s"] / figures["rows_per_s"], 1)
    return figures


def stage_equivalence(bench: Benchmark) -> dict[str, Any]:
    from equivalence import compare

    sample, _ = bench.sample()
    comparison = compare(sample, bench.config, bench.now)
    return {"status": "ok" if comparison.mismatches == 0 else "mismatch", **comparison.as_dict()}


def stage_send(bench: Benchmark) -> dict[str, Any]:
    from pinterest_pipeline.delivery import PinterestTarget, deliver
    from pinterest_pipeline.fake_api import DEFAULT_ACCESS_TOKEN, DEFAULT_AD_ACCOUNT_ID
    from pinterest_pipeline.transform import transform
    from pinterest_pipeline.transform.sources import register_source

    day = bench.day(bench.args.rows)
    state = bench.workdir / "send_pipeline.duckdb"
    with duckdb.connect(str(state)) as con:
        con.execute("SET enable_progress_bar = false")
        result = transform(con, register_source(con, str(day.parquet)), bench.config, now=bench.now)
        con.execute("CHECKPOINT")  # the events are on disk before the send, as after a transform asset
        with FakeApiProcess(latency_ms=bench.args.latency_ms, validate_sample=bench.args.validate_sample) as fake:
            target = PinterestTarget(DEFAULT_AD_ACCOUNT_ID, DEFAULT_ACCESS_TOKEN, api_url=fake.url)
            report = deliver(con, result.events_table, target, bench.config)
    state.unlink()
    if report.delivered != result.events:
        raise RuntimeError(f"delivered {report.delivered} of {result.events} events: {report}")
    return {
        "events": report.delivered,
        "requests": report.requests,
        "retries": report.retries,
        "seconds": round(report.duration_s, 2),
        "events_per_s": round(report.delivered / report.duration_s),
        "latency_ms": bench.args.latency_ms,
        "concurrency": bench.config.concurrency,
        "fake_validate_sample": bench.args.validate_sample,
    }


def stage_end_to_end(bench: Benchmark) -> dict[str, Any]:
    import dagster as dg

    from pinterest_pipeline.dagster import build_pinterest_defs
    from pinterest_pipeline.support.package_files import sql_path

    day = bench.day(bench.args.rows)
    home = bench.workdir / "dagster_home"
    home.mkdir(exist_ok=True)
    state = bench.workdir / "e2e_pipeline.duckdb"
    with FakeApiProcess(latency_ms=bench.args.latency_ms, validate_sample=bench.args.validate_sample) as fake, \
            dg.instance_for_test(temp_dir=str(home)) as instance:
        from pinterest_pipeline.fake_api import DEFAULT_ACCESS_TOKEN, DEFAULT_AD_ACCOUNT_ID

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
            fixed_now=bench.now.isoformat(),
        )
        started = time.perf_counter()
        result = dg.materialize(
            [*defs.assets, *defs.asset_checks],
            partition_key=day.day.isoformat(),
            instance=instance,
            resources=defs.resources,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        seconds = time.perf_counter() - started
    upload = {}
    for event in result.get_asset_materialization_events():
        if event.materialization.asset_key == dg.AssetKey("pinterest_upload"):
            upload = {key: value.value for key, value in event.materialization.metadata.items()}
    shutil.rmtree(home, ignore_errors=True)
    state.unlink(missing_ok=True)
    return {
        "rows": day.rows,
        "seconds": round(seconds, 2),
        "success": result.success,
        "delivered": upload.get("delivered"),
        "requests": upload.get("requests"),
        "latency_ms": bench.args.latency_ms,
    }


def stage_memory(bench: Benchmark) -> dict[str, Any]:
    big = bench.day(bench.args.big_rows)
    figures = bench.cli_transform(big, "memory")
    big.warehouse.unlink()  # a 10M-row day is gigabytes on disk
    big.parquet.unlink()
    small = bench.results.get("transform", {})
    if "seconds" in small:
        figures["rows_growth"] = round(big.rows / small["rows"], 1)
        figures["time_growth"] = round(figures["seconds"] / small["seconds"], 1)
        figures["memory_growth"] = round(figures["peak_rss_mib"] / small["peak_rss_mib"], 1)
    return figures


STAGES: dict[str, Callable[[Benchmark], dict[str, Any]]] = {
    "transform": stage_transform,
    "baseline": stage_baseline,
    "equivalence": stage_equivalence,
    "send": stage_send,
    "end_to_end": stage_end_to_end,
    "memory": stage_memory,
}


def report_rows(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    """(measure, figure, target, details) lines of the printed table."""
    rows = []

    def figure(stage: str, render: Callable[[dict], tuple[str, str, str]], label: str) -> None:
        result = results.get(stage)
        if result is None:
            return
        if "error" in result:
            rows.append((label, "not run", "", result["error"]))
        else:
            rows.append((label, *render(result)))

    figure("transform", lambda r: (
        f"{r['rows_per_s']:,} rows/s", f">= {TARGET_TRANSFORM_ROWS_PER_S:,}",
        f"{r['rows']:,} rows in {r['seconds']}s, {r['bytes_per_event']} B/event, peak {r['peak_rss_mib']} MiB",
    ), "transform (CLI, engine)")
    figure("baseline", lambda r: (
        f"{r['rows_per_s']:,} rows/s", "", f"{r['rows']:,}-row sample in {r['seconds']}s",
    ), "transform (naive baseline)")
    figure("baseline", lambda r: (
        f"{r['engine_ratio']}x" if "engine_ratio" in r else "n/a",
        f">= {TARGET_RATIO}x",
        "engine rows/s / baseline rows/s",
    ), "engine / baseline")
    figure("equivalence", lambda r: (
        f"{r['mismatches']} mismatches", "0",
        f"{r['matching_events']:,} of {r['engine_events']:,} events identical on {r['rows']:,} rows; "
        f"{r['warning_mismatches']} events with other warnings",
    ), "same events as baseline")
    figure("send", lambda r: (
        f"{r['events_per_s']:,} events/s", f">= {TARGET_SEND_EVENTS_PER_S:,}",
        f"{r['events']:,} events, {r['requests']:,} requests, {r['latency_ms']:g} ms latency, "
        f"concurrency {r['concurrency']}",
    ), "send to fake API")
    figure("end_to_end", lambda r: (
        f"{r['seconds']}s", f"<= {TARGET_END_TO_END_S}s",
        f"{r['rows']:,} rows, Dagster run {'succeeded' if r['success'] else 'FAILED'}, {r['delivered']} delivered",
    ), "one day, warehouse to API")
    figure("memory", lambda r: (
        f"{r['peak_rss_mib']} MiB", f"< {TARGET_PEAK_RSS_BYTES // MIB} MiB",
        f"{r['rows']:,} rows in {r['seconds']}s ({r['rows_per_s']:,} rows/s)",
    ), "peak memory, big day")
    figure("memory", lambda r: (
        f"time x{r.get('time_growth', 'n/a')}, memory x{r.get('memory_growth', 'n/a')}", "",
        f"for x{r.get('rows_growth', 'n/a')} rows",
    ), "growth, day -> big day")
    return rows


def print_report(rows: list[tuple[str, str, str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="pinterest-pipeline benchmarks")
    for column in ("measure", "figure", "target", "details"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(width=max(Console().width, 140)).print(table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmarks against the targets of benchmarks/README.md.")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the main day (default 1M)")
    parser.add_argument("--big-rows", type=int, default=10_000_000, help="rows of the memory day (default 10M)")
    parser.add_argument("--baseline-rows", type=int, default=50_000, help="rows of the baseline sample")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="fake API latency per request")
    parser.add_argument("--validate-sample", type=float, default=0.05,
                        help="share of events the fake checks against the full JSON schema (default 0.05)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--quick", action="store_true", help="100k-row day, 1M-row big day, 10k-row baseline")
    parser.add_argument("--only", nargs="+", choices=sorted(STAGES), help="run only these stages")
    parser.add_argument("--workdir", type=Path, help="keep inputs and outputs here (default: a temporary directory)")
    parser.add_argument("--debug", action="store_true", help="print tracebacks of failed stages")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.big_rows, args.baseline_rows = 100_000, 1_000_000, 10_000
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pinterest-pipeline-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    bench = Benchmark(args, workdir)
    try:
        for name in args.only or STAGES:
            print(f"-- {name}", file=sys.stderr, flush=True)
            try:
                bench.results[name] = STAGES[name](bench)
            except Exception as exc:  # a stage's failure is a result too; the others still run
                if args.debug:
                    traceback.print_exc()
                bench.results[name] = {"error": f"{type(exc).__name__}: {_last_line(str(exc))}"}
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    print_report(report_rows(bench.results, args))
    record = {
        "measured_at": bench.now.isoformat(),
        "machine": {
            "cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        "parameters": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "stages": bench.results,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{bench.now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(f"saved {path}")
    return 0 if all("error" not in result for result in bench.results.values()) else 1


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


if __name__ == "__main__":
    sys.exit(main())
