"""`pinterest-pipeline send EVENTS.ndjson --ad-account ID`: deliver a transform's output, exactly once.

Exit codes (docs/delivery.md): 0 when nothing is left to retry (every event delivered, failed or rejected);
1 when some events are still pending or failed_retryable (run the same command again to finish);
2 on usage, config or auth errors.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from pinterest_pipeline.commands.state_option import add_state_option, state_from
from pinterest_pipeline.config import ConfigError, load_config
from pinterest_pipeline.delivery import (
    API_URL_ENV_VAR,
    DEFAULT_API_URL,
    TOKEN_ENV_VAR,
    DeliveryReport,
    PinterestTarget,
)
from pinterest_pipeline.delivery.ndjson import load_ndjson_events

# The events table `send` loads the file into, in the pipeline database.
SEND_EVENTS_TABLE = "send_events"

EXIT_COMPLETE = 0
EXIT_UNSETTLED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "send",
        help="send an EVENTS.ndjson file to an ad account, each event exactly once",
        description=(
            f"Send the events of EVENTS.ndjson (from `transform`) to a Pinterest ad account. The token is read from "
            f"{TOKEN_ENV_VAR}; the API base URL from {API_URL_ENV_VAR} (default {DEFAULT_API_URL}). Events already "
            "settled in the delivery ledger are skipped, so the command can be re-run until it exits 0. "
            "Exit codes: 0 nothing left to retry, 1 some events still to retry, 2 usage/config/auth error."
        ),
    )
    parser.add_argument("events", metavar="EVENTS.ndjson", type=Path, help="one Pinterest event JSON per line")
    parser.add_argument("--ad-account", required=True, metavar="ID", help="Pinterest ad account id (digits)")
    parser.add_argument(
        "--test", action="store_true", help="send with ?test=true: validated by Pinterest, not recorded"
    )
    add_state_option(parser)
    parser.add_argument(
        "--resend-failed", action="store_true", help="also re-send events Pinterest refused before (after fixing them)"
    )
    parser.add_argument("--config", type=Path, metavar="FILE.toml", help="pipeline configuration file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, state=args.state)
    token = os.environ.get(TOKEN_ENV_VAR, "")
    if not token.strip():
        raise ConfigError(f"no access token: set the {TOKEN_ENV_VAR} environment variable")
    target = PinterestTarget(
        args.ad_account, token, api_url=os.environ.get(API_URL_ENV_VAR) or DEFAULT_API_URL, test_mode=args.test
    )
    _show_delivery_logs()
    with state_from(config).session() as session:
        loaded = load_ndjson_events(session.con, args.events, SEND_EVENTS_TABLE, config)
        if loaded.duplicates:
            print(
                f"{args.events}: {loaded.duplicates} lines repeat an earlier event and are sent once", file=sys.stderr
            )
        report = _deliver_with_progress(session, target, config)
    print(_summary(report, target))
    return EXIT_COMPLETE if report.complete else EXIT_UNSETTLED


def _show_delivery_logs() -> None:
    """Retries and per-event failures are worth seeing on stderr; the library itself adds no handler."""
    package_logger = logging.getLogger("pinterest_pipeline")
    if not package_logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.WARNING)


def _deliver_with_progress(session, target: PinterestTarget, config) -> DeliveryReport:
    if not sys.stderr.isatty():
        return session.deliver(SEND_EVENTS_TABLE, target, config)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("sending"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("send", total=None)
        return session.deliver(
            SEND_EVENTS_TABLE,
            target,
            config,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )


def _summary(report: DeliveryReport, target: PinterestTarget) -> str:
    mode = " (test mode)" if target.test_mode else ""
    lines = [
        f"ad account {target.ad_account_id}{mode}: {report.events_considered} events, "
        f"{report.already_settled} already settled, {report.sent} sent in {report.requests} requests "
        f"({report.retries} retries) in {report.duration_s:.1f}s",
        f"  delivered {report.delivered}, failed {report.failed}, rejected {report.rejected}, "
        f"failed_retryable {report.failed_retryable}, warnings {report.warnings}",
    ]
    if report.connection_error:
        lines.append(
            f"  could not reach the API at {target.api_url} ({report.connection_error}): "
            f"{report.reached_api} of the {report.sent} events sent in this run reached it"
        )
    if report.unsettled:
        lines.append(f"  {report.unsettled} events still to send: run the same command again")
    return "\n".join(lines)
