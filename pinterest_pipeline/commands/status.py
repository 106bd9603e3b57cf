"""`pinterest-pipeline status`: the delivery ledger per day and ad account."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from pinterest_pipeline.config import load_config
from pinterest_pipeline.delivery import ledger_summary
from pinterest_pipeline.errors import PipelineError

_COUNTS = ("delivered", "failed", "rejected", "failed_retryable", "pending", "in_flight")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show the delivery ledger per day and ad account",
        description="Per partition day, ad account and mode: events delivered, failed, rejected and still to send.",
    )
    parser.add_argument("--state", type=Path, metavar="DB", help="pipeline DuckDB file holding the delivery ledger")
    parser.add_argument("--config", type=Path, metavar="FILE.toml", help="pipeline configuration file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, state=args.state)
    if not config.state.is_file():
        raise PipelineError(f"no pipeline database at {config.state}: nothing was sent from it yet")
    try:
        con = duckdb.connect(str(config.state), read_only=True)
    except duckdb.Error as error:
        raise PipelineError(f"cannot open the pipeline database {config.state}: {error}") from None
    try:
        rows = ledger_summary(con)
    finally:
        con.close()
    console = Console()
    if not console.is_terminal:
        # Piped or captured output: wide enough that no column is cut or folded.
        console = Console(width=160)
    if not rows:
        console.print(f"{config.state}: no deliveries recorded")
        return 0
    table = Table(title=f"Delivery ledger: {config.state}")
    for name in ("day", "ad account", "mode", *_COUNTS):
        table.add_column(name, justify="left" if name in ("day", "ad account", "mode") else "right")
    for row in rows:
        table.add_row(
            str(row.partition_day), row.ad_account_id, "test" if row.test else "production",
            *(str(getattr(row, name)) for name in _COUNTS),
        )
    console.print(table)
    return 0
