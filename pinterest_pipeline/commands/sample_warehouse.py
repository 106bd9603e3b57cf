"""`pinterest-pipeline sample-warehouse PATH`: write a messy sample warehouse to try the pipeline on."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from pinterest_pipeline.errors import PipelineError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample-warehouse",
        help="write a sample warehouse (DuckDB file) with realistic, messy customers, orders and events",
        description="Write a DuckDB warehouse with customers, products, orders, order_items and events "
        "covering the DAYS whole UTC days before --end (default: today).",
    )
    parser.add_argument("path", type=Path, metavar="PATH", help="the DuckDB file to write")
    parser.add_argument("--days", type=_positive, default=7, help="days of data (default 7)")
    parser.add_argument(
        "--rows-per-day", type=_positive, default=2000, help="orders plus events per day (default 2000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="same seed, same data (default 0)")
    parser.add_argument(
        "--end", type=_iso_date, default=None, metavar="YYYY-MM-DD",
        help="the day after the last day with data (default: today, UTC)",
    )
    parser.add_argument("--force", action="store_true", help="replace PATH if it exists")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pinterest_pipeline.sample.warehouse import generate_sample_warehouse

    if args.path.exists() and not args.force:
        raise PipelineError(f"{args.path} already exists; pass --force to replace it")
    if args.path.is_dir():
        raise PipelineError(f"{args.path} is a directory")
    summary = generate_sample_warehouse(
        args.path, days=args.days, rows_per_day=args.rows_per_day, seed=args.seed, end=args.end
    )
    tables = ", ".join(f"{name} {count:,}" for name, count in summary.tables.items())
    print(
        f"wrote {summary.path}: {summary.first_day} to {summary.last_day} "
        f"({summary.conversion_rows:,} conversion rows) in {summary.seconds:.1f}s\n  {tables}"
    )
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None
