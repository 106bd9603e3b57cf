"""The Dagster assets on a PostgreSQL state: two runs of different days at once, in two processes,
both succeed (no file lock to queue on), every event reaches the fake API once, and a later run in a
fresh "container" (another process, Dagster instance and working directory) finds the day delivered
and sends nothing. The password travels in PGPASSWORD, never in the state URL, the config or the logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dagster_support import NOW, TOKEN_ENV, WAREHOUSE_KEYS, warehouse  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parent.parent

# One day's daily run in a process of its own, as a run worker in its own container runs it;
# prints the upload's metadata and whether the run succeeded.
_RUN_DAY = """
import json, sys
import dagster as dg
from pinterest_pipeline.dagster import build_pinterest_defs
from pinterest_pipeline.support.package_files import sql_path

state, warehouse, api_url, account, now, token_env, key = sys.argv[1:8]
defs = build_pinterest_defs(
    extracts={name: sql_path(f"{name}.sql") for name in ("extract_orders", "extract_events")},
    warehouse={"path": warehouse},
    state=state,
    pinterest={"ad_account_id": account, "access_token_env": token_env, "api_url": api_url},
    partitions={"start_date": "2025-01-01"},
    fixed_now=now,
)
with dg.instance_for_test() as instance:
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks], partition_key=key, instance=instance, resources=defs.resources,
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}}, raise_on_error=False,
    )
    upload = {}
    for event in result.get_asset_materialization_events():
        if event.materialization.asset_key == dg.AssetKey("pinterest_upload"):
            upload = {k: v.value for k, v in event.materialization.metadata.items()}
    logs = " ".join(str(record) for record in instance.all_logs(result.run_id))
print(json.dumps({"success": result.success, "upload": upload, "logs": logs}))
"""


@pytest.fixture
def shared_state(postgres_server) -> str:
    """A fresh database, its URL without the password (which goes in PGPASSWORD)."""
    return postgres_server.create_database().replace(f":{postgres_server.password}@", "@")


def _start_day(key: str, state: str, warehouse: Path, fake_api, cwd: Path, password: str) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "DAGSTER_HOME"))}
    environment.update(
        {"PGPASSWORD": password, TOKEN_ENV: fake_api.access_token, "HOME": str(cwd), "PYTHONPATH": str(REPO_ROOT)}
    )
    arguments = [state, str(warehouse), fake_api.url, fake_api.ad_account_id, NOW.isoformat(), TOKEN_ENV, key]
    return subprocess.Popen(
        [sys.executable, "-c", _RUN_DAY, *arguments], cwd=cwd, env=environment, stdout=subprocess.PIPE, text=True
    )


def _finish(process: subprocess.Popen) -> dict:
    stdout, _ = process.communicate(timeout=300)
    assert process.returncode == 0, stdout
    return json.loads(stdout.strip().splitlines()[-1])


def test_two_days_at_once_then_a_fresh_container_sends_nothing(tmp_path, warehouse, shared_state, postgres_server):  # noqa: F811
    from pinterest_pipeline.fake_api import FakePinterestApi

    containers = [tmp_path / name for name in ("first", "second", "later")]
    for container in containers:
        container.mkdir()
    days = WAREHOUSE_KEYS[-2:]
    with FakePinterestApi() as fake_api:
        running = [
            _start_day(key, shared_state, warehouse, fake_api, container, postgres_server.password)
            for key, container in zip(days, containers)
        ]
        results = [_finish(process) for process in running]

        assert [result["success"] for result in results] == [True, True]
        received = fake_api.processed_counts()
        assert received and max(received.values()) == 1
        for result in results:
            upload = result["upload"]
            assert upload["delivered"] == upload["events"] == upload["sent_this_run"] > 0
            assert upload["still_to_send"] == 0
        sent = len(fake_api.received)
        assert sent == sum(result["upload"]["delivered"] for result in results)

        later = _finish(_start_day(days[-1], shared_state, warehouse, fake_api, containers[2], postgres_server.password))

        assert later["success"]
        assert (later["upload"]["sent_this_run"], later["upload"]["still_to_send"]) == (0, 0)
        assert later["upload"]["summary"].startswith("nothing to send: already delivered")
        assert len(fake_api.received) == sent
    for result in [*results, later]:
        assert postgres_server.password not in result["logs"] + json.dumps(result["upload"])
        assert fake_api.access_token not in result["logs"]
