"""A 6-day backfill on the celery executor: one worker against two (docs/production.md).

Everything is real and on this machine: PostgreSQL 15 for the Dagster instance (dagster-postgres),
Redis as the Celery broker and backend, `dagster-celery` workers taking one step at a time, one
`dagster job execute` process per day, all six launched at once, the fake Pinterest API in this
process. The wall time runs from the launch of the first run to the end of the last; workers are
started (and ready) before. Each configuration gets a fresh pipeline state and Dagster database.

    python benchmarks/scale_out.py [--days 6] [--rows-per-day 2000] [--latency-ms 50] [--postgres-state]

With the DuckDB-file state (the default) the steps of different days take turns on the file's lock,
so two workers overlap only the work outside it (loading the code, Dagster's bookkeeping, waiting
for the API). `--postgres-state` runs the same backfill with the pipeline state in a fresh PostgreSQL
database per configuration.
Needs `pip install -e ".[test]"` and `redis-server` (apt-get install -y redis-server).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests/ package

from pinterest_pipeline.fake_api import FakePinterestApi, Faults  # noqa: E402
from pinterest_pipeline.sample.warehouse import generate_sample_warehouse  # noqa: E402
from pinterest_pipeline.support.package_files import sql_path  # noqa: E402
from tests.scale_out.harness import LocationSettings, scale_out_cluster  # noqa: E402
from tests.servers.postgres import start_postgres  # noqa: E402
from tests.servers.redis import start_redis  # noqa: E402

TOKEN_ENV = "PINTEREST_BENCHMARK_ACCESS_TOKEN"


def backfill(root: Path, workers: int, day_keys: list[str], warehouse: Path, state: str, postgres, redis, api) -> float:
    """Seconds from launching every day's run to the end of the last; asserts every run succeeded."""
    import dagster as dg

    today = datetime.fromisoformat(day_keys[-1]).date() + timedelta(days=1)
    settings = LocationSettings(
        extracts={name: str(sql_path(f"{name}.sql")) for name in ("extract_orders", "extract_events")},
        warehouse=str(warehouse),
        state=state,
        ad_account_id=api.ad_account_id,
        access_token_env=TOKEN_ENV,
        api_url=api.url,
        start_date=day_keys[0],
        fixed_now=(
            datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc) + timedelta(minutes=30)
        ).isoformat(),
    )
    with scale_out_cluster(
        root, postgres_url=postgres.create_database(), redis_url=redis.url(), settings=settings, token=api.access_token
    ) as cluster:
        cluster.start_workers(*(f"worker{n}" for n in range(1, workers + 1)))
        started = time.perf_counter()
        processes = [cluster.launch_day(key) for key in day_keys]
        cluster.wait_for_runs(processes, timeout=1800)
        elapsed = time.perf_counter() - started
        statuses = {key: cluster.run_of(key).status for key in day_keys}
        if set(statuses.values()) != {dg.DagsterRunStatus.SUCCESS}:
            raise SystemExit(f"runs did not all succeed with {workers} worker(s): {statuses}; logs in {root}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--rows-per-day", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="the fake API's delay per request")
    parser.add_argument(
        "--postgres-state", action="store_true", help="the pipeline state in PostgreSQL (default: a DuckDB file)"
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="scale-out-benchmark-"))
    today = datetime.now(timezone.utc).date()
    day_keys = [(today - timedelta(days=n)).isoformat() for n in range(args.days, 0, -1)]
    warehouse = root / "warehouse.duckdb"
    generate_sample_warehouse(warehouse, days=args.days, rows_per_day=args.rows_per_day, end=today)
    postgres, redis = start_postgres(), start_redis()
    try:
        with FakePinterestApi(faults=Faults(latency_ms=args.latency_ms), record_events=False) as api:
            times = {}
            for workers in (1, 2):
                run_root = root / f"{workers}-workers"
                if args.postgres_state:
                    # The password goes in PGPASSWORD (runs and workers inherit it), never in the state URL.
                    os.environ["PGPASSWORD"] = postgres.password
                    state = postgres.create_database().replace(f":{postgres.password}@", "@")
                else:
                    state = str(run_root / "pipeline.duckdb")
                times[workers] = backfill(run_root, workers, day_keys, warehouse, state, postgres, redis, api)
                print(
                    f"{workers} worker(s): {args.days}-day backfill of {args.rows_per_day} rows/day"
                    f" in {times[workers]:.1f} s",
                    flush=True,
                )
        state_kind = "PostgreSQL" if args.postgres_state else "DuckDB file"
        print(
            f"two workers / one worker: {times[2] / times[1]:.2f} of the time"
            f" ({times[1] / times[2]:.2f}x faster), state: {state_kind}"
        )
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(postgres.root, ignore_errors=True)
        shutil.rmtree(redis.root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
