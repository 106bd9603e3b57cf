"""What a user sees when the state or the API cannot be reached: one line naming the place (host,
port, database; the file; the API URL), never the database password or the access token."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import psycopg
import pytest

from pinterest_pipeline.cli import main
from pinterest_pipeline.fake_api import FakePinterestApi
from pinterest_pipeline.state import StateError, open_state
from tests.test_delivery_cli import cli_env, write_config, write_events_file

pytestmark = pytest.mark.timeout(60)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_events_file(tmp_path / "events.ndjson", 300)
    return tmp_path


def _cases(server):
    port = _closed_port()
    return {
        "unreachable": (
            f"postgresql://postgres:{server.password}@127.0.0.1:{port}/postgres",
            f"cannot connect to the PostgreSQL state postgresql://127.0.0.1:{port}/postgres: "
            "connection refused (is the server running, and on this port?)",
        ),
        "wrong-password": (
            f"postgresql://postgres:not-{server.password}@127.0.0.1:{server.port}/postgres",
            f"cannot connect to the PostgreSQL state postgresql://127.0.0.1:{server.port}/postgres: "
            "the server refused the user or password",
        ),
        "missing-database": (
            f"postgresql://postgres:{server.password}@127.0.0.1:{server.port}/no_such_db",
            f"cannot connect to the PostgreSQL state postgresql://127.0.0.1:{server.port}/no_such_db: "
            'database "no_such_db" does not exist',
        ),
    }


@pytest.mark.parametrize("case", ["unreachable", "wrong-password", "missing-database"])
@pytest.mark.parametrize("command", ["send", "status"])
def test_state_connection_errors_are_one_line_without_the_password(workdir, monkeypatch, capsys, postgres_server, case, command):
    url, message = _cases(postgres_server)[case]
    with FakePinterestApi() as api:
        for name, value in cli_env(api).items():
            monkeypatch.setenv(name, value)
        args = ["send", "events.ndjson", "--ad-account", api.ad_account_id] if command == "send" else ["status"]
        started = time.monotonic()
        code = main([*args, "--state", url])
        elapsed = time.monotonic() - started
        requests = len(api.requests)
    captured = capsys.readouterr()
    assert code == 2 and requests == 0
    assert captured.err == f"pinterest-pipeline {command}: error: {message}\n"
    assert postgres_server.password not in captured.err + captured.out
    assert elapsed < 5  # at once: one attempt, no retries


def test_a_missing_table_names_the_store(postgres_url):
    state = open_state(postgres_url)
    display = postgres_url.split("@")[1]
    with state.session() as session, pytest.raises(StateError) as raised:
        session.stage_events(None, "events")
    assert str(raised.value) == f"pinterest_events does not exist in postgresql://{display}: nothing was stored in it yet"
    with state.session() as session, pytest.raises(StateError) as raised:
        session.stage_day_source(__import__("datetime").date(2026, 1, 1), ["extract_orders"], "day_source")
    assert str(raised.value) == f"no extract has been materialized yet in postgresql://{display}: materialize extract_orders first"


def test_display_name_never_shows_the_password(postgres_server):
    state = open_state(postgres_server.url("pipeline"))
    expected = f"postgresql://127.0.0.1:{postgres_server.port}/pipeline"
    assert state.display_name == state.describe() == expected
    assert postgres_server.password not in repr(state) + str(state.location) + repr(state.location)


def test_the_state_holds_neither_password_nor_token(workdir, monkeypatch, capsys, postgres_server, postgres_url):
    with FakePinterestApi() as api:
        for name, value in cli_env(api).items():
            monkeypatch.setenv(name, value)
        assert main(["send", "events.ndjson", "--ad-account", api.ad_account_id, "--state", postgres_url]) == 0
        assert main(["status", "--state", postgres_url]) == 0
        token = api.access_token
    captured = capsys.readouterr()
    with psycopg.connect(postgres_url) as connection:
        dump = "\n".join(
            str(row) for table in ("delivery_ledger",) for row in connection.execute(f"SELECT * FROM {table}").fetchall()
        )
    for secret in (postgres_server.password, token):
        assert secret not in captured.out + captured.err + dump
    assert f"Delivery ledger: postgresql://127.0.0.1:{postgres_server.port}/" in captured.out


def test_a_second_process_on_a_duckdb_file_fails_with_one_line_after_waiting(tmp_path):
    path = tmp_path / "pipeline.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; con = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        with pytest.raises(StateError) as raised, open_state(path, lock_wait_s=1).session():
            pass
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert str(raised.value) == (
        f"the pipeline database {path} is in use by another process (PID {holder.pid}) and stayed locked for 1 s: "
        "DuckDB admits one process per file; wait for it to finish, or use a postgresql:// state to run several at once"
    )
    assert 1 <= waited < 3


def test_api_unreachable_names_the_url_and_what_reached_it(workdir, monkeypatch, capsys):
    write_config(workdir / "pipeline.toml", max_attempts=2, retry_backoff_base=0.01, chunk_size=100)
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", "tok-secret-5d1e")
    monkeypatch.setenv("PINTEREST_API_URL", url)
    code = main(["send", "events.ndjson", "--ad-account", "549755885175", "--state", "s.duckdb", "--config", "pipeline.toml"])
    captured = capsys.readouterr()
    assert code == 1
    assert f"  could not reach the API at {url} (ConnectError: All connection attempts failed (gave up after 2 attempts)): " \
           "0 of the 300 events sent in this run reached it" in captured.out
    assert "tok-secret-5d1e" not in captured.out + captured.err
