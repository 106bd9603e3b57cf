"""`pinterest-pipeline demo` as a new user runs it: from any directory, without DAGSTER_HOME, twice."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.slow


def _demo(cwd, *args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("PINTEREST_")}
    environment["COLUMNS"] = "200"  # one table row per line
    return subprocess.run(
        [sys.executable, "-m", "pinterest_pipeline", "demo", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_demo_runs_twice_and_sends_nothing_the_second_time(tmp_path):
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
    days = [(yesterday - timedelta(days=1)).isoformat(), yesterday.isoformat()]

    first = _demo(elsewhere, "--dir", "demo", "--days", "2", "--rows-per-day", "40")

    assert first.returncode == 0, first.stdout + first.stderr
    assert all(day in first.stdout for day in days)
    assert "Nothing was sent twice" not in first.stdout
    workdir = elsewhere / "demo"
    assert {"warehouse.duckdb", "pipeline.duckdb", "dagster_home", ".env"} <= {p.name for p in workdir.iterdir()}
    assert list(elsewhere.iterdir()) == [workdir]  # nothing written outside --dir

    second = _demo(elsewhere, "--dir", "demo", "--days", "2", "--rows-per-day", "40")

    assert second.returncode == 0, second.stdout + second.stderr
    assert "kept from an earlier run" in second.stdout
    assert "Nothing was sent twice" in second.stdout
    assert "the fake API received 0 events this time" in second.stdout
