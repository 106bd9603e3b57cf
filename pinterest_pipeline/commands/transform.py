"""`pinterest-pipeline transform`: contract rows from a file, table or warehouse day -> NDJSON.

    pinterest-pipeline transform orders.parquet --out events.ndjson --rejected rejects.ndjson
    pinterest-pipeline transform --warehouse shop.duckdb --day 2024-06-01 --out ... --rejected ...

Options map to config keys (DESIGN §8, §9); both output files are always written, or neither.
"""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from pinterest_pipeline.commands.state_option import add_state_option, state_from
from pinterest_pipeline.config import ConfigError, PipelineConfig, load_config
from pinterest_pipeline.duckdb_session import bounded_connection
from pinterest_pipeline.errors import InputError, first_line
from pinterest_pipeline.ndjson_output import write_table_files, write_transform_files
from pinterest_pipeline.pipeline_tables import EVENTS_TABLE, REJECTS_TABLE
from pinterest_pipeline.sources import SOURCE_VIEW, register_source
from pinterest_pipeline.transform import TransformResult, check_rows, transform

WAREHOUSE_EXTRACTS = ("extract_orders", "extract_events")

# Option -> config key, for the options that override the config file (plus --max-event-age-days).
CONFIG_OPTIONS = {
    "source_timezone": "source_timezone",
    "default_country": "default_country",
    "default_action_source": "default_action_source",
    "unknown_events": "unknown_events",
    "taxonomy": "taxonomy",
    "partner_name": "partner_name",
    "default_currency": "default_currency",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transform",
        help="turn conversion rows into Pinterest events (NDJSON) and rejects",
        description="Normalize, hash and map conversion rows to Pinterest events; rows that cannot be "
        "sent go to the rejects file with a reason.",
    )
    parser.add_argument("input", nargs="?", metavar="INPUT", help="Parquet, CSV or NDJSON file, or file.duckdb:table")
    parser.add_argument("--out", required=True, type=Path, metavar="EVENTS.ndjson", help="events, one per line")
    parser.add_argument("--rejected", required=True, type=Path, metavar="REJECTS.ndjson", help="rejected rows")
    parser.add_argument("--warehouse", type=Path, metavar="W.duckdb", help="extract one day from this warehouse instead of INPUT")
    parser.add_argument("--day", type=_parse_day, metavar="YYYY-MM-DD", help="the day (in partition_timezone) to extract")
    parser.add_argument("--config", type=Path, metavar="FILE.toml", help="pipeline config file")
    add_state_option(
        parser,
        "with --warehouse: also store the day's extracts, events and rejects in this state (a DuckDB file or a "
        "postgresql:// URL), replacing what the day stored before; default: PINTEREST_PIPELINE_STATE, if set",
    )
    parser.add_argument("--now", type=_parse_now, metavar="ISO8601", help="the run's clock (default: now)")
    parser.add_argument("--source-timezone", metavar="TZ", help="time zone of naive timestamps")
    parser.add_argument("--default-country", metavar="CC", help="country of national phone numbers and ZIPs")
    parser.add_argument("--default-action-source", metavar="X", help="action_source for rows without one")
    parser.add_argument("--unknown-events", metavar="custom|reject", help="policy for unmapped event names")
    parser.add_argument("--taxonomy", metavar="NAME", help="event-name preset")
    parser.add_argument("--partner-name", metavar="ss-x", help="partner_name sent with every event")
    parser.add_argument("--max-event-age-days", type=int, metavar="N", help="reject rows older than N days")
    parser.add_argument("--default-currency", metavar="XXX", help="currency of values without one")
    parser.set_defaults(handler=run)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parse_now(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 timestamp: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _config(args: argparse.Namespace) -> PipelineConfig:
    overrides = {key: getattr(args, option) for option, key in CONFIG_OPTIONS.items()}
    overrides["state"] = args.state
    if args.max_event_age_days is not None:
        overrides["max_event_age"] = timedelta(days=args.max_event_age_days)
    return load_config(args.config, **overrides)


def _staged(extract: str) -> str:
    return f"staged_{extract}"


def _register_warehouse_day(
    con: duckdb.DuckDBPyConnection, warehouse: Path, day: date, config: PipelineConfig
) -> str:
    """Extract the orders and events of `day` (in the partition time zone) into TEMP tables
    `staged_<extract>` (a state's file never sees them) and view their union."""
    from pinterest_pipeline.extract import day_window, extract_window

    start, end = day_window(day, config.partition_timezone)
    for name in WAREHOUSE_EXTRACTS:
        extract_window(con, str(warehouse), name, start, end, _staged(name), temporary=True)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {SOURCE_VIEW} AS "
        + " UNION ALL BY NAME ".join(f"SELECT * FROM {_staged(name)}" for name in WAREHOUSE_EXTRACTS)
    )
    return SOURCE_VIEW


def _transform_into_state(args: argparse.Namespace, config: PipelineConfig, now: datetime) -> TransformResult:
    """A warehouse day transformed as the assets do, stored in the state (extracts, events, rejects
    and the transform's clock, in one transaction), then written to the two files."""
    from pinterest_pipeline.state import TransformRecord

    events, rejects = "staged_pinterest_events", "staged_pinterest_rejects"
    with state_from(config).session() as session:
        source = _register_warehouse_day(session.con, args.warehouse, args.day, config)
        result = transform(
            session.con, source, config, now=now, events_table=events, rejects_table=rejects,
            source_label=f"{args.warehouse} {args.day}", temporary=True,
        )
        record = TransformRecord(
            now, int(config.max_event_age.total_seconds()), int(config.max_future_skew.total_seconds())
        )
        session.write_day(
            args.day,
            {**{name: _staged(name) for name in WAREHOUSE_EXTRACTS}, EVENTS_TABLE: events, REJECTS_TABLE: rejects},
            transform_record=record,
        )
        write_table_files(session.con, events, rejects, args.out, args.rejected)
    return result


def run(args: argparse.Namespace) -> int:
    if (args.input is None) == (args.warehouse is None):
        raise ConfigError("give either INPUT or --warehouse with --day")
    if args.warehouse is not None and args.day is None:
        raise ConfigError("--warehouse needs --day YYYY-MM-DD")
    if args.state is not None and args.warehouse is None:
        raise ConfigError("--state stores a warehouse day: give --warehouse and --day")
    config = _config(args)
    now = args.now or datetime.now(timezone.utc)
    label = args.input or f"{args.warehouse} {args.day}"
    try:
        if args.warehouse is not None and (args.state is not None or _state_in_environment()):
            result = _transform_into_state(args, config, now)
            print(summary(result, args.out, args.rejected))
            return 0
        with bounded_connection() as con, _Progress(con) as progress:
            progress.stage("opening input")
            if args.input is not None:
                source = register_source(con, args.input)
            else:
                source = _register_warehouse_day(con, args.warehouse, args.day, config)
            checked = check_rows(con, source, config, now=now, source_label=label, on_stage=progress.stage)
            progress.stage("normalizing, hashing and writing events")
            warnings = write_transform_files(con, checked, args.out, args.rejected, on_progress=progress.share)
            result = TransformResult(checked.rows_in, checked.events, checked.rejected, warnings)
    except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException) as exc:
        # Bad data found while reading the whole input (past what type sniffing saw).
        raise InputError(f"{label}: {first_line(exc)}") from None
    print(summary(result, args.out, args.rejected))
    return 0


def _state_in_environment() -> bool:
    import os

    return bool(os.environ.get("PINTEREST_PIPELINE_STATE", "").strip())


def summary(result: TransformResult, events_path: Path, rejects_path: Path) -> str:
    """The lines printed after a run: counts, rejects by reason, warnings by code, files."""
    lines = [f"{result.rows_in:,} rows -> {result.events:,} events, {result.rejected_total:,} rejected"]
    if result.rejected:
        lines.append("rejected: " + ", ".join(f"{reason} {count:,}" for reason, count in result.rejected.items()))
    if result.warnings:
        lines.append("warnings: " + ", ".join(f"{code} {count:,}" for code, count in result.warnings.items()))
    lines.append(f"wrote {events_path} and {rejects_path}")
    return "\n".join(lines)


class _Progress:
    """A progress line on a terminal (quiet when piped): the current stage and DuckDB's estimate
    of how far the running query is, polled from a background thread."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.enabled = sys.stderr.isatty()
        self._stop = threading.Event()
        self._description = ""
        self._share: float | None = None

    def __enter__(self) -> "_Progress":
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=100)
            self._poller = threading.Thread(target=self._poll, daemon=True)
            self._poller.start()
        return self

    def stage(self, description: str) -> None:
        self._description = description
        self._share = None

    def share(self, share: float) -> None:
        """The share of a stage that runs as many queries (DuckDB's estimate is per query)."""
        self._share = share

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            percent = self.con.query_progress() if self._share is None else 100 * self._share
            self._bar.update(self._task, description=self._description, completed=max(percent, 0))

    def __exit__(self, *exc_info: object) -> None:
        if self.enabled:
            self._stop.set()
            self._poller.join()
            self._bar.stop()
