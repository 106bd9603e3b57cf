"""`send`, `status` and crash safety through the command line, against the fake API.

The crash test kills a real `pinterest-pipeline send` process with SIGKILL while requests are in
flight, then re-runs it: every event ends delivered, and the only events Pinterest (the fake) saw
twice are ones the ledger had `in_flight` at the kill, which is the guarantee the README states.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import duckdb
import pytest

from pinterest_pipeline.cli import main
from pinterest_pipeline.fake_api import FakePinterestApi, Faults
from tests.delivery_fixtures import create_events_table

pytestmark = pytest.mark.timeout(90)


def write_events_file(path, count: int) -> None:
    con = duckdb.connect()
    create_events_table(con, count)
    path.write_text("".join(row[0] + "\n" for row in con.execute("SELECT event_json FROM events ORDER BY source_row").fetchall()))


def write_config(path, **values) -> None:
    path.write_text("".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in values.items()))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli_env(api: FakePinterestApi) -> dict[str, str]:
    return {"PINTEREST_ACCESS_TOKEN": api.access_token, "PINTEREST_API_URL": api.url}


def test_send_then_status(workdir, monkeypatch, capsys):
    write_events_file(workdir / "events.ndjson", 1200)
    with FakePinterestApi() as api:
        for name, value in cli_env(api).items():
            monkeypatch.setenv(name, value)
        args = ["send", "events.ndjson", "--ad-account", api.ad_account_id, "--state", "state.duckdb"]
        first, second = main(args), main(args)
    out = capsys.readouterr().out
    assert (first, second) == (0, 0)
    assert "1200 events, 0 already settled, 1200 sent in 2 requests" in out
    assert "1200 events, 1200 already settled, 0 sent in 0 requests" in out
    assert main(["status", "--state", "state.duckdb"]) == 0
    table = capsys.readouterr().out
    assert "549755885175" in table and "production" in table and "1200" in table


def test_send_exit_1_while_events_remain(workdir, monkeypatch, capsys):
    write_events_file(workdir / "events.ndjson", 300)
    write_config(workdir / "pipeline.toml", max_attempts=1, chunk_size=100)
    with FakePinterestApi(faults=Faults(script=("503",))) as api:
        for name, value in cli_env(api).items():
            monkeypatch.setenv(name, value)
        args = ["send", "events.ndjson", "--ad-account", api.ad_account_id, "--state", "s.duckdb", "--config", "pipeline.toml"]
        first, second = main(args), main(args)
    out = capsys.readouterr().out
    assert (first, second) == (1, 0)
    assert "failed_retryable 100" in out and "100 events still to send: run the same command again" in out


@pytest.mark.parametrize(
    ("env", "ad_account", "message"),
    [
        ({"PINTEREST_ACCESS_TOKEN": "not-the-token-7f3a"}, None, "Pinterest refused the access token for ad account"),
        ({}, "42", "may not send events to ad account 42"),
        ({"PINTEREST_ACCESS_TOKEN": ""}, None, "no access token: set the PINTEREST_ACCESS_TOKEN environment variable"),
    ],
    ids=["401", "403", "no-token"],
)
def test_send_exit_2_on_auth_and_config(workdir, monkeypatch, capsys, env, ad_account, message):
    write_events_file(workdir / "events.ndjson", 10)
    with FakePinterestApi() as api:
        for name, value in {**cli_env(api), **env}.items():
            monkeypatch.setenv(name, value)
        code = main(["send", "events.ndjson", "--ad-account", ad_account or api.ad_account_id, "--state", "s.duckdb"])
    captured = capsys.readouterr()
    assert code == 2 and message in captured.err
    assert "not-the-token-7f3a" not in captured.err + captured.out


def test_sigkill_mid_run_then_resume_duplicates_only_in_flight(workdir):
    write_events_file(workdir / "events.ndjson", 6000)
    write_config(workdir / "pipeline.toml", chunk_size=100, concurrency=4)
    with FakePinterestApi(faults=Faults(latency_ms=150)) as api:
        env = {**os.environ, **cli_env(api)}
        command = [sys.executable, "-m", "pinterest_pipeline", "send", "events.ndjson", "--ad-account",
                   api.ad_account_id, "--state", "s.duckdb", "--config", "pipeline.toml"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while sum(r.outcome == "200" for r in api.requests) < 12 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        time.sleep(0.3)  # requests the dead client left are finished (and dropped) by the server
        con = duckdb.connect("s.duckdb")
        at_kill = dict(con.execute("SELECT event_id, status FROM delivery_ledger").fetchall())
        con.close()
        resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        counts = Counter(event_id for event_id, _ in api.processed_counts().elements())
    in_flight = {event_id for event_id, status in at_kill.items() if status == "in_flight"}
    duplicated = {event_id for event_id, n in counts.items() if n > 1}
    assert resumed.returncode == 0, resumed.stderr
    assert 0 < Counter(at_kill.values())["delivered"] < 6000 and in_flight
    assert len(counts) == 6000 and max(counts.values()) <= 2
    assert duplicated <= in_flight
    con = duckdb.connect("s.duckdb")
    assert con.execute("SELECT status, count(*) FROM delivery_ledger GROUP BY ALL").fetchall() == [("delivered", 6000)]
