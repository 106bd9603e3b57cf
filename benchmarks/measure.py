"""What the benchmark stages share: a day of input rows, timed child processes, the fake API process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from pinterest_pipeline.extract import day_window, extract_window
from pinterest_pipeline.sample.warehouse import generate_sample_warehouse

EXTRACTS = ("extract_orders", "extract_events")


@dataclass(frozen=True)
class DayInput:
    """One day of contract rows from a sample warehouse, as the extracts yield them."""

    warehouse: Path
    day: date
    parquet: Path  # the day's orders and events, unioned by name: the transform's input
    rows: int
    generate_seconds: float
    extract_seconds: float


def prepare_day(workdir: Path, rows: int, *, seed: int = 0) -> DayInput:
    """A one-day sample warehouse of `rows` rows ending yesterday (UTC), extracted to Parquet."""
    today = datetime.now(timezone.utc).date()
    warehouse = workdir / f"warehouse_{rows}.duckdb"
    summary = generate_sample_warehouse(warehouse, days=1, rows_per_day=rows, seed=seed, end=today)
    day = today - timedelta(days=1)
    start, end = day_window(day, "UTC")
    parquet = workdir / f"day_{rows}.parquet"
    started = time.perf_counter()
    with duckdb.connect() as con:
        count = sum(extract_window(con, warehouse, name, start, end, name) for name in EXTRACTS)
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM {name}" for name in EXTRACTS)
        con.execute(f"COPY ({union}) TO '{_sql_path(parquet)}' (FORMAT parquet)")
    return DayInput(warehouse, day, parquet, count, summary.seconds, time.perf_counter() - started)


def describe_day(day: DayInput, workdir: Path) -> Path:
    """Write `day`'s description as JSON into `workdir`, for a child process to `load_day` it."""
    path = workdir / f"day_{day.rows}.json"
    path.write_text(json.dumps({
        "warehouse": str(day.warehouse), "day": day.day.isoformat(), "parquet": str(day.parquet), "rows": day.rows,
        "generate_seconds": day.generate_seconds, "extract_seconds": day.extract_seconds,
    }))
    return path


def load_day(path: Path) -> DayInput:
    """The day `describe_day` described."""
    fields = json.loads(path.read_text())
    return DayInput(
        Path(fields["warehouse"]), date.fromisoformat(fields["day"]), Path(fields["parquet"]), fields["rows"],
        fields["generate_seconds"], fields["extract_seconds"],
    )


def sample_rows(source: Path, target: Path, rows: int) -> int:
    """Every k-th row of `source` into `target`, in order, about `rows` of them."""
    with duckdb.connect() as con:
        total = con.execute(f"SELECT count(*) FROM read_parquet('{_sql_path(source)}')").fetchone()[0]
        step = max(1, total // rows)
        con.execute(
            f"""COPY (SELECT * EXCLUDE (position) FROM (
                    SELECT *, row_number() OVER () - 1 AS position FROM read_parquet('{_sql_path(source)}'))
                WHERE position % {step} = 0 LIMIT {rows}) TO '{_sql_path(target)}' (FORMAT parquet)"""
        )
        return con.execute(f"SELECT count(*) FROM read_parquet('{_sql_path(target)}')").fetchone()[0]


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str


def high_water_kib(pid: int) -> int:
    """The peak resident memory of a running process so far, in KiB (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_child(argv: list[str], workdir: Path) -> ChildRun:
    """Run a command to completion; wall time and the peak resident memory of that one process.

    The peak is the child's own `VmHWM` (/proc), sampled until it exits: Linux's `ru_maxrss` of a
    child starts from the RSS of the process that forked it, so a benchmark runner that generated a
    large warehouse would be charged to every child. Output goes to files, so a chatty child cannot
    block on a pipe.
    """
    stdout_path, stderr_path = workdir / "child.stdout", workdir / "child.stderr"
    with open(stdout_path, "w") as stdout, open(stderr_path, "w") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=stdout, stderr=stderr)
        peak_kib = 0
        while True:
            peak_kib = max(peak_kib, high_water_kib(process.pid))
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(
        seconds=seconds,
        peak_rss_bytes=peak_kib * 1024,
        returncode=process.returncode,
        stdout=stdout_path.read_text(),
        stderr=stderr_path.read_text(),
    )


class FakeApiProcess:
    """`pinterest-pipeline fake-api` in its own process, as Pinterest is another machine.

    In-process, the server's request parsing and schema validation would compete with the sender
    for the interpreter lock and be charged to the sender's throughput.
    """

    def __init__(self, *, latency_ms: float, validate_sample: float):
        self.argv = [
            sys.executable, "-m", "pinterest_pipeline", "fake-api", "--port", "0",
            "--latency-ms", str(latency_ms), "--validate-sample", str(validate_sample),
        ]
        self.process: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> FakeApiProcess:
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            if match:
                self.url = match.group(1)
                return self
            if not line and self.process.poll() is not None:
                break
        self.__exit__(None, None, None)
        raise RuntimeError("the fake API did not start")

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))


def _sql_path(path: Path) -> str:
    # COPY and read_parquet take their file names as literals, not bound parameters.
    return str(path).replace("'", "''")
