"""`pinterest-pipeline fake-api`: serve the local fake of Pinterest's events endpoint in the foreground."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from pinterest_pipeline.config import ConfigError
from pinterest_pipeline.fake_api import DEFAULT_ACCESS_TOKEN, DEFAULT_AD_ACCOUNT_ID, Faults
from pinterest_pipeline.fake_api.server import FakeApiSettings, FakeApiState, start_server


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fake-api",
        help="serve a local fake of the Pinterest events endpoint",
        description=(
            "Serve POST /v5/ad_accounts/{id}/events on 127.0.0.1 with Pinterest's validation and answers, and "
            "inject faults. Change faults while it runs with POST /_control/faults (JSON), read what it received "
            "with GET /_control/received."
        ),
    )
    parser.add_argument("--port", type=int, default=8089, help="port on 127.0.0.1 (0: any free port; default 8089)")
    parser.add_argument(
        "--token", default=DEFAULT_ACCESS_TOKEN, help=f"bearer token to accept (default {DEFAULT_ACCESS_TOKEN})"
    )
    parser.add_argument(
        "--ad-account", default=DEFAULT_AD_ACCOUNT_ID, metavar="ID", help="the one ad account that exists"
    )
    parser.add_argument("--max-event-age-days", type=float, default=7.0, help="older events fail per event (default 7)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before each request is processed")
    parser.add_argument("--rate-429", type=float, default=0.0, metavar="X", help="share of requests answered 429")
    parser.add_argument(
        "--retry-after", type=float, default=None, metavar="S", help="Retry-After seconds on injected 429s"
    )
    parser.add_argument("--rate-5xx", type=float, default=0.0, metavar="X", help="share of requests answered 503")
    parser.add_argument(
        "--drop-before", type=float, default=0.0, metavar="X", help="share of connections closed before processing"
    )
    parser.add_argument(
        "--drop-after", type=float, default=0.0, metavar="X", help="share of connections closed after processing"
    )
    parser.add_argument("--fail-rate", type=float, default=0.0, metavar="X", help="share of events failed per event")
    parser.add_argument("--partial-422", action="store_true", help="answer 422 instead of 200 when some events failed")
    parser.add_argument(
        "--validate-sample", type=float, default=1.0, metavar="X",
        help="share of events checked against the full schema",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault draws")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        faults = Faults(
            latency_ms=args.latency_ms, rate_429=args.rate_429, retry_after=args.retry_after, rate_5xx=args.rate_5xx,
            drop_before=args.drop_before, drop_after=args.drop_after, fail_rate=args.fail_rate,
            partial_422=args.partial_422, validate_sample=args.validate_sample,
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None
    settings = FakeApiSettings(
        access_token=args.token,
        ad_account_id=args.ad_account,
        max_event_age=timedelta(days=args.max_event_age_days),
        seed=args.seed,
        faults=faults,
    )
    try:
        asyncio.run(_serve(FakeApiState(settings), args.port))
    except KeyboardInterrupt:
        pass
    return 0


async def _serve(state: FakeApiState, port: int) -> None:
    runner, bound_port = await start_server(state, "127.0.0.1", port)
    url = f"http://127.0.0.1:{bound_port}"
    print(f"fake Pinterest API on {url} (ad account {state.settings.ad_account_id}); Ctrl-C to stop", flush=True)
    print(f"  send to it with: PINTEREST_API_URL={url} PINTEREST_ACCESS_TOKEN=<the --token value>", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
