"""Two `pinterest-pipeline send` processes on one PostgreSQL state (docs/delivery.md, docs/state.md).

Real subprocesses, real HTTP to the fake API, a real PostgreSQL 15. The fake counts every event it
processed: the guarantee is read off it, not off the ledger.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import psycopg
import pytest

from pinterest_pipeline.fake_api import FakePinterestApi, Faults
from tests.test_delivery_cli import cli_env, write_config, write_events_file

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]


def send_command(api: FakePinterestApi, url: str, config: str) -> list[str]:
    return [sys.executable, "-m", "pinterest_pipeline", "send", "events.ndjson", "--ad-account", api.ad_account_id,
            "--state", url, "--config", config]


def ledger_statuses(url: str) -> dict[str, str]:
    with psycopg.connect(url) as connection:
        return dict(connection.execute("SELECT event_id, status FROM delivery_ledger").fetchall())


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_events_file(tmp_path / "events.ndjson", 4000)
    write_config(tmp_path / "pipeline.toml", chunk_size=100, concurrency=4)
    return tmp_path


def test_two_senders_at_once_send_every_event_exactly_once(workdir, postgres_url):
    # 40 requests of 200 ms, 4 at a time: the first sender holds the day for 2 s, long after the other started.
    with FakePinterestApi(faults=Faults(latency_ms=200)) as api:
        env = {**os.environ, **cli_env(api)}
        command = send_command(api, postgres_url, "pipeline.toml")
        senders = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(2)]
        outputs = [sender.communicate(timeout=90) for sender in senders]
        counts = api.processed_counts()
    assert [sender.returncode for sender in senders] == [0, 0], outputs
    assert len(counts) == 4000 and set(counts.values()) == {1}
    # One of them sent everything; the other waited for the day's lock and found it settled.
    (sent_out, sent_err), (waited_out, waited_err) = sorted(outputs, key=lambda output: "already settled, 0 sent" in output[0])
    assert "4000 events, 0 already settled, 4000 sent" in sent_out
    assert "4000 events, 4000 already settled, 0 sent in 0 requests" in waited_out
    assert "another run is sending day" in waited_err and "waiting for it to finish" in waited_err
    assert set(ledger_statuses(postgres_url).values()) == {"delivered"}


def test_sender_killed_mid_send_then_rerun_resends_only_in_flight(workdir, postgres_url):
    with FakePinterestApi(faults=Faults(latency_ms=150)) as api:
        env = {**os.environ, **cli_env(api)}
        command = send_command(api, postgres_url, "pipeline.toml")
        killed = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while sum(r.outcome == "200" for r in api.requests) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        time.sleep(0.3)  # requests the dead client left are finished (and dropped) by the server
        at_kill = ledger_statuses(postgres_url)
        # The next sender does not wait for the dead one: its lock went with its connection.
        resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        counts = Counter(event_id for event_id, _ in api.processed_counts().elements())
    in_flight = {event_id for event_id, status in at_kill.items() if status == "in_flight"}
    duplicated = {event_id for event_id, n in counts.items() if n > 1}
    assert resumed.returncode == 0, resumed.stderr
    assert "waiting" not in resumed.stderr
    assert 0 < Counter(at_kill.values())["delivered"] < 4000 and in_flight
    assert len(counts) == 4000 and max(counts.values()) <= 2
    assert duplicated <= in_flight
    assert set(ledger_statuses(postgres_url).values()) == {"delivered"}


def test_rerun_from_another_directory_and_home_sends_nothing(workdir, postgres_url, tmp_path_factory):
    with FakePinterestApi() as api:
        env = {**os.environ, **cli_env(api)}
        first = subprocess.run(send_command(api, postgres_url, "pipeline.toml"), env=env, capture_output=True,
                               text=True, timeout=60)
        elsewhere = tmp_path_factory.mktemp("another-machine")
        (elsewhere / "events.ndjson").write_bytes((workdir / "events.ndjson").read_bytes())
        (elsewhere / "pipeline.toml").write_text((workdir / "pipeline.toml").read_text())
        fresh_home = tmp_path_factory.mktemp("home")
        again = subprocess.run(send_command(api, postgres_url, "pipeline.toml"), env={**env, "HOME": str(fresh_home)},
                               cwd=elsewhere, capture_output=True, text=True, timeout=60)
        requests = len(api.requests)
    assert (first.returncode, again.returncode) == (0, 0), again.stderr
    assert "4000 events, 4000 already settled, 0 sent in 0 requests" in again.stdout
    assert requests == 40
    assert not (elsewhere / ".pinterest_pipeline").exists() and not (workdir / ".pinterest_pipeline").exists()
