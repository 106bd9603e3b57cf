"""Send throughput to the local fake API with injected latency (target in benchmarks/README.md).

The fake runs in its own process (`pinterest-pipeline fake-api`), as Pinterest would be another
machine: the sender's figures are not charged with the server's parsing and validation.

    python benchmarks/send_throughput.py --events 200000 --latency-ms 50 [--validate-sample 1.0]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb
from measure import FakeApiProcess

from pinterest_pipeline.config import build_config
from pinterest_pipeline.delivery import PinterestTarget, deliver
from pinterest_pipeline.fake_api import DEFAULT_ACCESS_TOKEN, DEFAULT_AD_ACCOUNT_ID

# About 1 KB per event, like a transform output with 9 identity fields and custom_data.
EVENTS_SQL = """
CREATE OR REPLACE TABLE events AS
SELECT i AS source_row, 'ev-' || i AS event_id, 'checkout' AS event_name, $t - i % 86400 AS event_time,
       CAST(to_timestamp($t) AS DATE) AS partition_day, 'web' AS action_source,
       CAST(json_object(
         'event_name', 'checkout', 'action_source', 'web', 'event_time', $t - i % 86400, 'event_id', 'ev-' || i,
         'user_data', json_object('em', [sha256('u' || i)], 'ph', [sha256('p' || i)], 'fn', [sha256('f' || i)],
           'ln', [sha256('l' || i)], 'ct', [sha256('c' || i)], 'st', [sha256('s' || i)], 'zp', [sha256('z' || i)],
           'country', [sha256('us')], 'external_id', [sha256('x' || i)],
           'client_ip_address', '203.0.113.7', 'client_user_agent', 'Mozilla/5.0 (X11; Linux x86_64)'),
         'custom_data', json_object('value', '27.5', 'currency', 'USD', 'order_id', 'o-' || i,
           'content_ids', ['sku-1', 'sku-2'], 'num_items', 2)) AS VARCHAR) AS event_json
FROM range($n) t(i)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--validate-sample", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        con = duckdb.connect(str(Path(workdir) / "pipeline.duckdb"))
        con.execute(EVENTS_SQL, {"n": args.events, "t": int(time.time()) - 3600})
        con.execute("CHECKPOINT")  # the events table is on disk before the send, as after a transform
        with FakeApiProcess(latency_ms=args.latency_ms, validate_sample=args.validate_sample) as fake:
            target = PinterestTarget(DEFAULT_AD_ACCOUNT_ID, DEFAULT_ACCESS_TOKEN, api_url=fake.url)
            started = time.perf_counter()
            report = deliver(con, "events", target, build_config(concurrency=args.concurrency))
            elapsed = time.perf_counter() - started
    assert report.delivered == args.events, report
    print(
        f"send: {report.delivered} events in {report.requests} requests, {elapsed:.2f}s "
        f"-> {report.delivered / elapsed:,.0f} events/s "
        f"(latency {args.latency_ms:g} ms, concurrency {args.concurrency}, cores {os.cpu_count()})"
    )


if __name__ == "__main__":
    main()
