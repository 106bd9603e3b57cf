"""`pinterest-pipeline demo` as a new user runs it: from any directory, without DAGSTER_HOME, twice;
the project it writes opens with `dagster` as it is, and the last day is left for the UI to send."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("PINTEREST_")}
    environment["COLUMNS"] = "80"  # a narrow terminal: the commands to copy must still be one line each
    return environment


def _demo(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pinterest_pipeline", "demo", *args],
        cwd=cwd,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_demo_runs_twice_and_sends_nothing_the_second_time(tmp_path):
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
    days = [(yesterday - timedelta(days=1)).isoformat(), yesterday.isoformat()]
    port = str(_free_port())

    first = _demo(elsewhere, "--dir", "demo", "--days", "2", "--rows-per-day", "40", "--port", port)

    assert first.returncode == 0, first.stdout + first.stderr
    assert all(day in first.stdout for day in days)
    assert "Nothing was sent twice" not in first.stdout
    assert f"upload {days[-1]} from there" in first.stdout
    workdir = elsewhere / "demo"
    assert {"warehouse.duckdb", "pipeline.duckdb", "dagster_home", ".env", "pyproject.toml", "pinterest_demo"} <= {
        p.name for p in workdir.iterdir()
    }
    assert list(elsewhere.iterdir()) == [workdir]  # nothing written outside --dir
    # The commands to copy are printed whole, one per line, however narrow the terminal.
    lines = first.stdout.splitlines()
    assert f"  pinterest-pipeline fake-api --port {port}" in lines
    assert f"  cd {workdir} && DAGSTER_HOME={workdir / 'dagster_home'} dg dev" in lines
    # The project is the component's defs.yaml and the two SQL files, partitions from the first day.
    component = workdir / "pinterest_demo" / "defs" / "pinterest"
    assert sorted(p.name for p in component.iterdir()) == ["defs.yaml", "extract_events.sql", "extract_orders.sql"]
    attributes = yaml.safe_load((component / "defs.yaml").read_text())["attributes"]
    assert attributes["partitions"]["start_date"] == days[0]
    assert attributes["pinterest"]["api_url"] == f"http://127.0.0.1:{port}"
    assert "fake-access-token" not in (component / "defs.yaml").read_text()

    second = _demo(elsewhere, "--dir", "demo", "--days", "2", "--rows-per-day", "40", "--port", port)

    assert second.returncode == 0, second.stdout + second.stderr
    assert "kept from an earlier run" in second.stdout
    assert "Nothing was sent twice" in second.stdout
    assert "the fake API received 0 events this time" in second.stdout

    # The written project loads as `dagster dev` would load it, from its own directory.
    validated = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate"],
        cwd=workdir,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
