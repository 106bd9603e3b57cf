"""A 1M-row day through each state store: extract, transform, store and send (docs/production.md).

For the DuckDB file and for PostgreSQL, in the same run on the same sample day: the extracts are
stored, the day is staged back and transformed, the events and rejects are stored, and the events
are staged and sent to the local fake API (its own process, 50 ms per request), as the assets do,
one session per step. Prints each step's seconds and the PostgreSQL / DuckDB-file ratio (target
<= 1.5x).

    python benchmarks/state_stores.py [--rows 1000000] [--postgres-url postgresql://...]

Without --postgres-url a throwaway PostgreSQL 15 cluster is started (tests/servers/postgres.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from measure import EXTRACTS, FakeApiProcess, prepare_day

from pinterest_pipeline.config import build_config
from pinterest_pipeline.delivery import PinterestTarget
from pinterest_pipeline.extract import day_window, extract_window
from pinterest_pipeline.fake_api import DEFAULT_ACCESS_TOKEN, DEFAULT_AD_ACCOUNT_ID
from pinterest_pipeline.pipeline_tables import EVENTS_TABLE, REJECTS_TABLE
from pinterest_pipeline.state import PipelineState, TransformRecord, open_state
from pinterest_pipeline.transform import transform


def timed(steps: dict[str, float], name: str, step: Callable[[], object]) -> object:
    started = time.perf_counter()
    result = step()
    steps[name] = time.perf_counter() - started
    return result


def run_day(state: PipelineState, warehouse: Path, day, api_url: str) -> dict[str, float]:
    config = build_config()
    now = datetime.now(timezone.utc)
    start, end = day_window(day, "UTC")
    steps: dict[str, float] = {}

    def extract() -> None:
        with state.session() as s:
            for name in EXTRACTS:
                extract_window(s.con, warehouse, name, start, end, "staged_extract", temporary=True)
                s.write_day(day, {name: "staged_extract"})

    def transform_day() -> None:
        with state.session() as s:
            s.stage_day_source(day, list(EXTRACTS), "conversion_source")
            transform(
                s.con,
                "conversion_source",
                config,
                now=now,
                events_table="staged_events",
                rejects_table="staged_rejects",
                temporary=True,
            )
            s.write_day(
                day,
                {EVENTS_TABLE: "staged_events", REJECTS_TABLE: "staged_rejects"},
                transform_record=TransformRecord(now, 7 * 86400, 300),
            )

    def send() -> object:
        target = PinterestTarget(DEFAULT_AD_ACCOUNT_ID, DEFAULT_ACCESS_TOKEN, api_url=api_url)
        with state.session() as s:
            events = s.stage_events([day], "upload_events")
            return s.deliver(events, target, config, partition_days=[day])

    timed(steps, "extract+store", extract)
    timed(steps, "stage+transform+store", transform_day)
    report = timed(steps, "stage+send", send)
    assert report.unsettled == 0 and report.delivered > 0, report
    steps["total"] = sum(steps.values())
    return steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres-url", help="an empty database to use (default: start a throwaway cluster)")
    args = parser.parse_args()
    server = None
    if args.postgres_url is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.servers.postgres import start_postgres

        server = start_postgres()
    postgres_url = args.postgres_url or server.create_database("state_benchmark")
    try:
        with tempfile.TemporaryDirectory(prefix="state-bench-") as tmp:
            workdir = Path(tmp)
            day_input = prepare_day(workdir, args.rows)
            print(f"{day_input.rows:,} rows on {day_input.day}", flush=True)
            results = {}
            with FakeApiProcess(latency_ms=50, validate_sample=0.01) as api:
                for kind, location in (("duckdb", str(workdir / "pipeline.duckdb")), ("postgres", postgres_url)):
                    results[kind] = run_day(open_state(location), day_input.warehouse, day_input.day, api.url)
                    print(kind, {name: round(seconds, 2) for name, seconds in results[kind].items()}, flush=True)
            for name in results["duckdb"]:
                print(
                    f"{name:24s} duckdb {results['duckdb'][name]:7.2f} s   postgres {results['postgres'][name]:7.2f} s"
                    f"   ratio {results['postgres'][name] / results['duckdb'][name]:.2f}x"
                )
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
