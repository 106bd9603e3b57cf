"""`pinterest-pipeline status`: the delivery ledger per day and ad account."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pinterest_pipeline.commands.state_option import add_state_option, state_from
from pinterest_pipeline.config import load_config
from pinterest_pipeline.state import StateError

_COUNTS = ("delivered", "failed", "rejected", "failed_retryable", "pending", "in_flight")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show the delivery ledger per day and ad account",
        description="Per partition day, ad account and mode: events delivered, failed, rejected and still to send.",
    )
    add_state_option(parser)
    parser.add_argument("--config", type=Path, metavar="FILE.toml", help="pipeline configuration file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, state=args.state)
    state = state_from(config)
    if not state.exists():
        raise StateError(f"no pipeline database at {state.display_name}: nothing was sent from it yet")
    with state.session(read_only=True) as session:
        rows = session.ledger_summary()
    console = Console()
    if not console.is_terminal:
        # Piped or captured output: wide enough that no column is cut or folded.
        console = Console(width=160)
    if not rows:
        console.print(f"{state.display_name}: no deliveries recorded")
        return 0
    table = Table(title=f"Delivery ledger: {state.display_name}")
    for name in ("day", "ad account", "mode", *_COUNTS):
        table.add_column(name, justify="left" if name in ("day", "ad account", "mode") else "right")
    for row in rows:
        table.add_row(
            str(row.partition_day), row.ad_account_id, "test" if row.test else "production",
            *(str(getattr(row, name)) for name in _COUNTS),
        )
    console.print(table)
    return 0
