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
import statistics
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
from measure import DayInput, FakeApiProcess, count_lines, describe_day, prepare_day, run_child, sample_rows

from pinterest_pipeline.config import PipelineConfig, build_config

BENCHMARKS_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCHMARKS_DIR / "results"
MIB = 1024 * 1024
# The targets (benchmarks/README.md).
TARGET_SHARE_OF_FLOOR = 0.40
TARGET_RATIO = 15
TARGET_SEND_EVENTS_PER_S = 50_000
TARGET_END_TO_END_S = 30
TARGET_PEAK_RSS_BYTES = 1024 * MIB
TARGET_DAGSTER_PEAK_RSS_BYTES = 2048 * MIB


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
        self._output_dir: Path | None = None

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

    def output_dir(self) -> Path:
        """Where transforms write their files: memory-backed storage when the machine has it, so the
        kernel's writeback of a gigabyte of dirty pages does not swing the timings."""
        if self._output_dir is None:
            shared_memory = Path("/dev/shm")
            if shared_memory.is_dir() and os.access(shared_memory, os.W_OK):
                self._output_dir = Path(tempfile.mkdtemp(prefix="pinterest-pipeline-bench-", dir=shared_memory))
            else:
                self._output_dir = self.workdir
        return self._output_dir

    def cli_transform(self, day: DayInput, name: str, *, out: Path | None = None) -> dict[str, Any]:
        """The CLI transform of one day in a child process: time, memory, output size. The files go
        to `out` (default: `output_dir()`)."""
        out = out or self.output_dir()
        events, rejects = out / f"{name}.events.ndjson", out / f"{name}.rejects.ndjson"
        run = run_child(
            [
                sys.executable,
                "-m",
                "pinterest_pipeline",
                "transform",
                str(day.parquet),
                "--out",
                str(events),
                "--rejected",
                str(rejects),
                "--now",
                self.now.isoformat(),
            ],
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
            "output_dir": str(out),
            "warehouse_generate_seconds": round(day.generate_seconds, 2),
            "extract_seconds": round(day.extract_seconds, 2),
        }
        events.unlink()
        rejects.unlink()
        return figures

    def floor(self, day: DayInput) -> dict[str, Any]:
        """`floor.py` on one day in a child process, start-up included: time, memory, output size."""
        lines = self.output_dir() / "floor.ndjson"
        run = run_child([sys.executable, str(BENCHMARKS_DIR / "floor.py"), str(day.parquet), str(lines)], self.workdir)
        if run.returncode != 0:
            raise RuntimeError(f"floor exited {run.returncode}: {_last_line(run.stderr)}")
        figures = {
            "rows": day.rows,
            "seconds": round(run.seconds, 2),
            "rows_per_s": round(day.rows / run.seconds),
            "bytes_per_line": round(lines.stat().st_size / max(day.rows, 1)),
            "peak_rss_mib": round(run.peak_rss_bytes / MIB, 1),
        }
        lines.unlink()
        return figures


def repeated(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of one measure: the fastest run's figures, plus the min/median/max seconds of all."""
    seconds = sorted(run["seconds"] for run in runs)
    best = min(runs, key=lambda run: run["seconds"])
    return {
        **best,
        "runs": len(runs),
        "seconds_min": seconds[0],
        "seconds_median": round(statistics.median(seconds), 2),
        "seconds_max": seconds[-1],
        "rows_per_s_median": round(best["rows"] / statistics.median(seconds)),
        "peak_rss_mib_max": max(run["peak_rss_mib"] for run in runs),
    }


def stage_floor(bench: Benchmark) -> dict[str, Any]:
    """The floor, best of `--floor-runs` (it is short, so the best run is the machine's own pace)."""
    day = bench.day(bench.args.rows)
    return repeated([bench.floor(day) for _ in range(bench.args.floor_runs)])


def stage_transform(bench: Benchmark) -> dict[str, Any]:
    """The CLI transform, `--runs` times: min and median, and its share of the floor measured beside it."""
    day = bench.day(bench.args.rows)
    figures = repeated([bench.cli_transform(day, "transform") for _ in range(bench.args.runs)])
    floor = bench.results.get("floor", {})
    if "seconds" in floor:
        figures["share_of_floor"] = round(floor["seconds"] / figures["seconds_min"], 3)
        figures["share_of_floor_median"] = round(floor["seconds_median"] / figures["seconds_median"], 3)
    return figures


def stage_baseline(bench: Benchmark) -> dict[str, Any]:
    from naive_baseline import run_baseline

    sample, rows = bench.sample()
    result = run_baseline(
        sample,
        bench.workdir / "baseline.events.ndjson",
        bench.workdir / "baseline.rejects.ndjson",
        bench.config,
        bench.now,
    )
    figures = {
        "rows": rows,
        "seconds": round(result.seconds, 2),
        "rows_per_s": round(rows / result.seconds),
        "events": len(result.events),
    }
    engine = bench.results.get("transform", {})
    if "rows_per_s" in engine:
        figures["engine_ratio"] = round(engine["rows_per_s"] / figures["rows_per_s"], 1)
        figures["engine_ratio_median"] = round(
            engine.get("rows_per_s_median", engine["rows_per_s"]) / figures["rows_per_s"], 1
        )
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


def dagster_day(bench: Benchmark, day: DayInput, name: str) -> dict[str, Any]:
    """`dagster_day.py` on one day in a child process: its figures (steps, engine calls) and its peak memory."""
    figures_path = bench.workdir / f"{name}.json"
    run = run_child(
        [
            sys.executable,
            str(BENCHMARKS_DIR / "dagster_day.py"),
            "--rows",
            str(day.rows),
            "--workdir",
            str(bench.workdir),
            "--day-json",
            str(describe_day(day, bench.workdir)),
            "--now",
            bench.now.isoformat(),
            "--latency-ms",
            str(bench.args.latency_ms),
            "--validate-sample",
            str(bench.args.validate_sample),
            "--profile",
            "--json",
            str(figures_path),
        ],
        bench.workdir,
    )
    if run.returncode != 0 or not figures_path.exists():
        raise RuntimeError(f"dagster day exited {run.returncode}: {_last_line(run.stderr)}")
    figures = json.loads(figures_path.read_text())
    figures["peak_rss_mib"] = round(run.peak_rss_bytes / MIB, 1)
    return figures


def stage_end_to_end(bench: Benchmark) -> dict[str, Any]:
    return dagster_day(bench, bench.day(bench.args.rows), "end_to_end")


def stage_dagster_memory(bench: Benchmark) -> dict[str, Any]:
    """The `--dagster-big-rows` day through the Dagster assets: peak memory (and time)."""
    big = bench.day(bench.args.dagster_big_rows)
    figures = dagster_day(bench, big, "dagster_memory")
    if bench.args.dagster_big_rows != bench.args.big_rows:
        big.warehouse.unlink()
        big.parquet.unlink()
    return figures


def stage_memory(bench: Benchmark) -> dict[str, Any]:
    big = bench.day(bench.args.big_rows)
    keep = "dagster_memory" in (bench.args.only or STAGES) and bench.args.dagster_big_rows == bench.args.big_rows
    # Ten gigabytes of events would not fit in memory-backed storage next to everything else.
    figures = bench.cli_transform(big, "memory", out=bench.workdir)
    if not keep:  # a 10M-row day is gigabytes on disk
        big.warehouse.unlink()
        big.parquet.unlink()
    small = bench.results.get("transform", {})
    if "seconds" in small:
        figures["rows_growth"] = round(big.rows / small["rows"], 1)
        figures["time_growth"] = round(figures["seconds"] / small.get("seconds_median", small["seconds"]), 1)
        figures["memory_growth"] = round(figures["peak_rss_mib"] / small["peak_rss_mib"], 1)
    return figures


STAGES: dict[str, Callable[[Benchmark], dict[str, Any]]] = {
    "floor": stage_floor,
    "transform": stage_transform,
    "baseline": stage_baseline,
    "equivalence": stage_equivalence,
    "send": stage_send,
    "end_to_end": stage_end_to_end,
    "memory": stage_memory,
    "dagster_memory": stage_dagster_memory,
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

    figure(
        "floor",
        lambda r: (
            f"{r['rows_per_s']:,} rows/s",
            "",
            f"best of {r['runs']}: {r['rows']:,} rows in {r['seconds']}s (median {r['seconds_median']}s), "
            f"{r['bytes_per_line']} B/line",
        ),
        "floor (read, sha256, concat, write)",
    )
    figure(
        "transform",
        lambda r: (
            f"{r['rows_per_s']:,} rows/s",
            "",
            f"min/median of {r['runs']}: {r['seconds_min']}s / {r['seconds_median']}s for {r['rows']:,} rows, "
            f"{r['bytes_per_event']} B/event, peak {r['peak_rss_mib_max']} MiB",
        ),
        "transform (CLI, engine)",
    )
    figure(
        "transform",
        lambda r: (
            f"{100 * r['share_of_floor']:.0f}%" if "share_of_floor" in r else "n/a",
            f">= {100 * TARGET_SHARE_OF_FLOOR:.0f}%",
            f"floor time / engine time, best runs (medians: {100 * r['share_of_floor_median']:.0f}%)"
            if "share_of_floor" in r
            else "floor not run",
        ),
        "engine / floor",
    )
    figure(
        "baseline",
        lambda r: (
            f"{r['rows_per_s']:,} rows/s",
            "",
            f"{r['rows']:,}-row sample in {r['seconds']}s",
        ),
        "transform (naive baseline)",
    )
    figure(
        "baseline",
        lambda r: (
            f"{r['engine_ratio']}x" if "engine_ratio" in r else "n/a",
            f">= {TARGET_RATIO}x",
            f"engine rows/s / baseline rows/s, engine's best run (median: {r.get('engine_ratio_median', 'n/a')}x)",
        ),
        "engine / baseline",
    )
    figure(
        "equivalence",
        lambda r: (
            f"{r['mismatches']} mismatches",
            "0",
            f"{r['matching_events']:,} of {r['engine_events']:,} events identical on {r['rows']:,} rows; "
            f"{r['warning_mismatches']} events with other warnings",
        ),
        "same events as baseline",
    )
    figure(
        "send",
        lambda r: (
            f"{r['events_per_s']:,} events/s",
            f">= {TARGET_SEND_EVENTS_PER_S:,}",
            f"{r['events']:,} events, {r['requests']:,} requests, {r['latency_ms']:g} ms latency, "
            f"concurrency {r['concurrency']}",
        ),
        "send to fake API",
    )
    figure(
        "end_to_end",
        lambda r: (
            f"{r['seconds']}s",
            f"<= {TARGET_END_TO_END_S}s",
            f"{r['rows']:,} rows, Dagster run {'succeeded' if r['success'] else 'FAILED'}, {r['delivered']} delivered; "
            + ", ".join(f"{step} {seconds}s" for step, seconds in r.get("steps_s", {}).items())
            + f"; {r.get('cpu_seconds')} CPU-s, peak {r['peak_rss_mib']} MiB",
        ),
        "one day, warehouse to API",
    )
    figure(
        "memory",
        lambda r: (
            f"{r['peak_rss_mib']} MiB",
            f"< {TARGET_PEAK_RSS_BYTES // MIB} MiB",
            f"{r['rows']:,} rows in {r['seconds']}s ({r['rows_per_s']:,} rows/s)",
        ),
        "peak memory, big day",
    )
    figure(
        "memory",
        lambda r: (
            f"time x{r.get('time_growth', 'n/a')}, memory x{r.get('memory_growth', 'n/a')}",
            "",
            f"for x{r.get('rows_growth', 'n/a')} rows",
        ),
        "growth, day -> big day",
    )
    figure(
        "dagster_memory",
        lambda r: (
            f"{r['peak_rss_mib']} MiB",
            f"< {TARGET_DAGSTER_PEAK_RSS_BYTES // MIB} MiB",
            f"{r['rows']:,} rows through the Dagster assets in {r['seconds']}s, "
            f"{'succeeded' if r['success'] else 'FAILED'}, {r['delivered']} delivered",
        ),
        "peak memory, big day, Dagster",
    )
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
    parser.add_argument(
        "--dagster-big-rows",
        type=int,
        default=10_000_000,
        help="rows of the Dagster memory day (default 10M, the memory day)",
    )
    parser.add_argument("--baseline-rows", type=int, default=50_000, help="rows of the baseline sample")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="fake API latency per request")
    parser.add_argument(
        "--validate-sample",
        type=float,
        default=0.05,
        help="share of events the fake checks against the full JSON schema (default 0.05)",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--runs", type=int, default=3, help="CLI transforms of the main day (min and median reported)")
    parser.add_argument("--floor-runs", type=int, default=3, help="floor runs (the best is reported)")
    parser.add_argument("--quick", action="store_true", help="100k-row day, 1M-row big day, 10k-row baseline")
    parser.add_argument("--only", nargs="+", choices=sorted(STAGES), help="run only these stages")
    parser.add_argument("--workdir", type=Path, help="keep inputs and outputs here (default: a temporary directory)")
    parser.add_argument("--debug", action="store_true", help="print tracebacks of failed stages")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.big_rows, args.baseline_rows = 100_000, 1_000_000, 10_000
        args.dagster_big_rows = args.big_rows
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
        if bench._output_dir is not None and bench._output_dir != workdir:
            shutil.rmtree(bench._output_dir, ignore_errors=True)

    print_report(report_rows(bench.results, args))
    record = {
        "measured_at": bench.now.isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
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
