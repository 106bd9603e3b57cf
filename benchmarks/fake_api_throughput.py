"""How many schema-valid events per second the fake API accepts (its target: benchmarks/README.md).

The fake runs in its own process; one client process keeps `--concurrency` requests of 1000
pre-built events (about 1 KB each) in flight, so the figure is the server's.

    python benchmarks/fake_api_throughput.py --requests 300 --validate-sample 1.0
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from send_throughput import EVENTS_SQL, start_fake  # noqa: E402

from pinterest_pipeline.fake_api import DEFAULT_ACCESS_TOKEN, DEFAULT_AD_ACCOUNT_ID  # noqa: E402


def build_body() -> bytes:
    con = duckdb.connect()
    con.execute(EVENTS_SQL, {"n": 1000, "t": int(time.time()) - 3600})
    texts = [row[0] for row in con.execute("SELECT event_json FROM events ORDER BY source_row").fetchall()]
    return ('{"data":[' + ",".join(texts) + "]}").encode()


async def hammer(url: str, body: bytes, requests: int, concurrency: int) -> float:
    headers = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}", "Content-Type": "application/json"}
    endpoint = f"{url}/v5/ad_accounts/{DEFAULT_AD_ACCOUNT_ID}/events"
    remaining = iter(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in remaining:
            response = await client.post(endpoint, content=body, headers=headers)
            assert response.status_code == 200, response.text

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency), timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--validate-sample", type=float, default=1.0)
    args = parser.parse_args()
    body = build_body()
    fake, url = start_fake(0, args.validate_sample)
    try:
        elapsed = asyncio.run(hammer(url, body, args.requests, args.concurrency))
    finally:
        fake.terminate()
        fake.wait()
    events = args.requests * 1000
    print(f"fake API: {events} events in {elapsed:.2f}s -> {events / elapsed:,.0f} events/s "
          f"(validate_sample {args.validate_sample:g}, {len(body) // 1000} B/event)")


if __name__ == "__main__":
    main()
