"""Scale-out for real (docs/production.md): a 6-day backfill on the celery executor, two workers, one killed.

The Dagster instance stores runs and events in PostgreSQL (dagster-postgres), the steps of every run
go through a Redis queue to two `dagster-celery` workers, and each day's run is its own process, so
the six runs execute at once. Mid-backfill the worker that is sending a day to the fake Pinterest API
is killed with SIGKILL, its request in flight. A replacement starts; the run that lost its step is
failed (as run monitoring does) and re-executed from failure. What a data engineer relies on after
that: every run succeeded, every event of the six days reached Pinterest, web and app events exactly
once (only in-flight offline events may repeat, docs/delivery.md), and each day's upload metadata is right.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from pinterest_pipeline.fake_api import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_AD_ACCOUNT_ID,
    FakeApiSettings,
    FakeApiState,
    Faults,
    start_server,
)
from pinterest_pipeline.sample.warehouse import generate_sample_warehouse
from pinterest_pipeline.support.package_files import sql_path
from tests.scale_out.harness import (
    CeleryWorker,
    LocationSettings,
    ScaleOutCluster,
    connections_to,
    scale_out_cluster,
    step_states,
)

pytestmark = pytest.mark.slow

DAYS = 6
ROWS_PER_DAY = 60
TODAY = datetime.now(timezone.utc).date()
DAY_KEYS = [(TODAY - timedelta(days=n)).isoformat() for n in range(DAYS, 0, -1)]
NOW = datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc) + timedelta(minutes=30)
TOKEN_ENV = "PINTEREST_TEST_ACCESS_TOKEN"
# Each request waits this long at the fake, so a worker is caught with its request in flight.
REQUEST_LATENCY_MS = 2000
BACKFILL_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def six_day_warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scale-out-warehouse") / "warehouse.duckdb"
    generate_sample_warehouse(path, days=DAYS, rows_per_day=ROWS_PER_DAY, end=TODAY)
    return path


def location_settings(warehouse: Path, state: str, api_url: str) -> LocationSettings:
    return LocationSettings(
        extracts={name: str(sql_path(f"{name}.sql")) for name in ("extract_orders", "extract_events")},
        warehouse=str(warehouse),
        state=state,
        ad_account_id=DEFAULT_AD_ACCOUNT_ID,
        access_token_env=TOKEN_ENV,
        api_url=api_url,
        start_date=DAY_KEYS[0],
        fixed_now=NOW.isoformat(),
    )


class ArrivalCountingState(FakeApiState):
    """The fake's state, counting requests as they arrive (the fake logs them once answered)."""

    arrivals = 0

    def next_request_id(self) -> str:  # called as a request's handling starts
        self.arrivals += 1
        return super().next_request_id()


@contextmanager
def counting_fake_api(latency_ms: float) -> Iterator[tuple[ArrivalCountingState, str]]:
    """The fake Pinterest API served from a thread, with its state exposed: (state, base URL)."""
    state = ArrivalCountingState(
        FakeApiSettings(
            access_token=DEFAULT_ACCESS_TOKEN, ad_account_id=DEFAULT_AD_ACCOUNT_ID, faults=Faults(latency_ms=latency_ms)
        )
    )
    loop = asyncio.new_event_loop()
    runner, port = loop.run_until_complete(start_server(state))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def kill_the_worker_sending(workers: list[CeleryWorker], api: ArrivalCountingState, port: int) -> CeleryWorker:
    """SIGKILL the worker whose request is at the fake API, once a day was delivered before.

    Uploads take turns on the state's lock, so a request that arrived and is not answered yet is the
    one worker's holding a connection to the fake. It is killed half a second into the fake's answer
    delay: the request is unanswered, the fake drops it ("client_gone") and the ledger holds its
    events as in flight.
    """
    deadline = time.monotonic() + BACKFILL_TIMEOUT_S
    while time.monotonic() < deadline:
        answered = len(api.store.requests)
        if answered >= 1 and api.arrivals > answered:
            time.sleep(0.5)
            for worker in workers:
                if connections_to(worker.pids(), port):
                    worker.kill()
                    return worker
        time.sleep(0.02)
    raise AssertionError("no worker was seen sending to the fake API")


def wait_for_stranded_runs(cluster: ScaleOutCluster, lost: CeleryWorker) -> list[str]:
    """Wait until every run has either ended or waits only for steps that died with `lost`;
    returns the days of the latter."""
    deadline = time.monotonic() + BACKFILL_TIMEOUT_S
    while time.monotonic() < deadline:
        stranded, running = [], []
        for key, process in cluster.run_processes.items():
            if process.poll() is not None:
                continue
            run = cluster.run_of(key)
            states = step_states(cluster.instance, run.run_id) if run else None
            if states and states.lost_on(lost.hostname) and states.open_steps() == states.lost_on(lost.hostname):
                stranded.append(key)
            else:
                running.append(key)
        if not running:
            return stranded
        time.sleep(0.5)
    raise AssertionError(f"runs still running after {BACKFILL_TIMEOUT_S} s: {running}")


def test_a_backfill_on_two_celery_workers_survives_a_killed_worker(
    tmp_path, postgres_server, redis_server, six_day_warehouse, monkeypatch
):
    # The pipeline's state on PostgreSQL, shared by every run and worker; the password in PGPASSWORD,
    # which the workers and runs inherit, never in the URL the Dagster config holds.
    state = postgres_server.create_database().replace(f":{postgres_server.password}@", "@")
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    with (
        counting_fake_api(REQUEST_LATENCY_MS) as (api, api_url),
        scale_out_cluster(
            tmp_path / "cluster",
            postgres_url=postgres_server.create_database(),
            redis_url=redis_server.url(),
            settings=location_settings(six_day_warehouse, state, api_url),
            token=DEFAULT_ACCESS_TOKEN,
        ) as cluster,
    ):
        workers = cluster.start_workers("first", "second")
        for key in DAY_KEYS:
            cluster.launch_day(key)

        lost = kill_the_worker_sending(workers, api, int(api_url.rsplit(":", 1)[1]))
        (survivor,) = [worker for worker in workers if worker is not lost]
        (replacement,) = cluster.start_workers("replacement")
        stranded = wait_for_stranded_runs(cluster, lost)

        # The kill hit a request in flight, and stranded the run whose upload it was running.
        assert [request.outcome for request in api.store.requests].count("client_gone") == 1
        assert stranded, "the killed worker was running a step of some run"
        lost_steps = {
            key: step_states(cluster.instance, cluster.run_of(key).run_id).lost_on(lost.hostname) for key in stranded
        }
        assert any("pinterest_upload" in steps for steps in lost_steps.values()), lost_steps

        failed = {key: cluster.fail_stranded_run(key, lost) for key in stranded}
        assert {run.status for run in failed.values()} == {dg.DagsterRunStatus.FAILURE}
        retries = {key: cluster.reexecute_from_failure(run.run_id) for key, run in failed.items()}
        cluster.wait_for_runs(list(retries.values()), BACKFILL_TIMEOUT_S)

        final_runs = _final_runs(cluster)
        assert {key: run.status for key, run in final_runs.items()} == {
            key: dg.DagsterRunStatus.SUCCESS for key in DAY_KEYS
        }
        for key in stranded:
            assert final_runs[key].parent_run_id == failed[key].run_id
            # Only what did not succeed ran again, on the workers still alive.
            states = step_states(cluster.instance, final_runs[key].run_id)
            assert states.ended >= lost_steps[key]
            assert set(states.worker_of.values()) <= {survivor.hostname, replacement.hostname}
        # Both workers took steps before one was lost: the days really were spread over them.
        used = {
            worker
            for key in DAY_KEYS
            for worker in step_states(cluster.instance, cluster.run_of(key).run_id).worker_of.values()
        }
        assert {lost.hostname, survivor.hostname} <= used

        upload_metadata = {key: _latest_upload_metadata(cluster.instance, key) for key in DAY_KEYS}

    with psycopg.connect(state) as con:
        events = con.execute(
            "SELECT event_id, event_name, action_source, CAST(partition_day AS TEXT) FROM pinterest_events"
        ).fetchall()
        ledger = dict(con.execute("SELECT status, count(*) FROM delivery_ledger GROUP BY status").fetchall())

    received = api.store.processed_counts(test=False)
    assert set(received) == {(event_id, name) for event_id, name, _, _ in events}
    for event_id, name, action_source, _ in events:
        times = received[(event_id, name)]
        # Pinterest dedupes web and app events by event_id, not offline ones (docs/delivery.md).
        assert times == 1 if action_source != "offline" else 1 <= times <= 2, (event_id, action_source, times)
    assert ledger == {"delivered": len(events)}

    per_day = Counter(day for _, _, _, day in events)
    assert sorted(per_day) == DAY_KEYS and min(per_day.values()) > 0
    for key in DAY_KEYS:
        metadata, n = upload_metadata[key], per_day[key]
        assert (metadata["delivered"], metadata["still_to_send"], metadata["failed"]) == (n, 0, 0), key
        if metadata["sent_this_run"]:
            expected = (
                f"sent {metadata['sent_this_run']:,} this run;"
                f" the day: delivered {n:,} of {n:,}, failed 0, rejected 0, still to send 0"
            )
        else:
            expected = f"nothing to send: already delivered {n:,} (failed 0, rejected 0)"
        assert metadata["summary"] == expected, key


def _final_runs(cluster: ScaleOutCluster) -> dict[str, dg.DagsterRun]:
    """Each day's newest run: the re-execution where there was one."""
    final = {}
    for key in DAY_KEYS:
        runs = cluster.instance.get_runs(dg.RunsFilter(tags={"dagster/partition": key}))
        final[key] = runs[0]  # newest first
    return final


def _latest_upload_metadata(instance: dg.DagsterInstance, key: str) -> dict:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("pinterest_upload"), asset_partitions=[key]), limit=1
    ).records
    assert records, f"pinterest_upload was never materialized for {key}"
    metadata = records[0].asset_materialization.metadata
    return {name: value.value for name, value in metadata.items()}
