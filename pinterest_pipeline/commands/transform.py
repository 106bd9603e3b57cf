"""`pinterest-pipeline transform`: contract rows from a file, table or warehouse day -> NDJSON.

    pinterest-pipeline transform orders.parquet --out events.ndjson --rejected rejects.ndjson
    pinterest-pipeline transform --warehouse shop.duckdb --day 2024-06-01 --out ... --rejected ...
    pinterest-pipeline transform --sql-dir my_sql/ --day 2024-06-01 ...              # the SQL reads files
    PINTEREST_WAREHOUSE_URI=postgresql://... \
    pinterest-pipeline transform --warehouse-adbc postgresql --sql-dir pg_sql/ --day 2024-06-01 ...

Options map to config keys; both output files are always written, or neither.
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
from pinterest_pipeline.errors import InputError, first_line
from pinterest_pipeline.pipeline_tables import EVENTS_TABLE, REJECTS_TABLE
from pinterest_pipeline.support.duckdb_session import bounded_connection
from pinterest_pipeline.support.package_files import sql_path
from pinterest_pipeline.support.sql_identifiers import quote_identifier
from pinterest_pipeline.transform import TransformResult, check_rows, transform
from pinterest_pipeline.transform.ndjson_output import write_table_files, write_transform_files
from pinterest_pipeline.transform.sources import SOURCE_VIEW, register_source
from pinterest_pipeline.warehouse.source import WarehouseSource

# The packaged extracts, and the order in which a day's extract files run when they are there:
# orders, then events (the order their rows have always had in the output); any other
# `extract_*.sql` of a `--sql-dir` follows in name order.
WAREHOUSE_EXTRACTS = ("extract_orders", "extract_events")
# Unmapped event names the summary shows; the transform result holds more.
SHOWN_NAMES = 10

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
    parser.add_argument(
        "--warehouse", type=Path, metavar="W.duckdb", help="extract one day from this DuckDB file instead of INPUT"
    )
    parser.add_argument(
        "--warehouse-adbc",
        metavar="DRIVER",
        help="extract one day through this ADBC driver (postgresql, sqlite, ...), URI in $PINTEREST_WAREHOUSE_URI",
    )
    parser.add_argument(
        "--sql-dir",
        type=Path,
        metavar="DIR",
        help="run every extract_*.sql in DIR instead of the packaged ones (alone: the SQL reads files itself)",
    )
    parser.add_argument(
        "--day", type=_parse_day, metavar="YYYY-MM-DD", help="the day (in partition_timezone) to extract"
    )
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


def extract_files(sql_dir: Path | None) -> list[Path]:
    """The extract SQL files of a day, in the order their rows are unioned (see WAREHOUSE_EXTRACTS)."""
    if sql_dir is None:
        return [sql_path(f"{name}.sql") for name in WAREHOUSE_EXTRACTS]
    if not sql_dir.is_dir():
        raise ConfigError(f"--sql-dir {sql_dir} is not a directory")
    found = {path.stem: path for path in sql_dir.glob("extract_*.sql") if path.is_file()}
    if not found:
        raise ConfigError(f"--sql-dir {sql_dir} holds no extract_*.sql file")
    first = [name for name in WAREHOUSE_EXTRACTS if name in found]
    return [found[name] for name in first + sorted(set(found) - set(first))]


def _staged(extract: str) -> str:
    return f"staged_{extract}"


def _register_warehouse_day(
    con: duckdb.DuckDBPyConnection,
    source: WarehouseSource,
    sql_files: list[Path],
    day: date,
    config: PipelineConfig,
) -> str:
    """Extract `day` (in the partition time zone) with each SQL file into a TEMP table
    `staged_<extract>` (a state's file never sees them) and view the union of their rows."""
    from pinterest_pipeline.warehouse import day_window, extract_window

    start, end = day_window(day, config.partition_timezone)
    tables = [_staged(sql_file.stem) for sql_file in sql_files]  # unique: the files of one directory
    for sql_file, table in zip(sql_files, tables):
        extract_window(con, source, sql_file, start, end, table, temporary=True)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {SOURCE_VIEW} AS "
        + " UNION ALL BY NAME ".join(f"SELECT * FROM {quote_identifier(table)}" for table in tables)
    )
    return SOURCE_VIEW


def _transform_into_state(
    args: argparse.Namespace,
    config: PipelineConfig,
    now: datetime,
    source: WarehouseSource,
    sql_files: list[Path],
    label: str,
) -> TransformResult:
    """A warehouse day transformed as the assets do, stored in the state (extracts, events, rejects
    and the transform's clock, in one transaction), then written to the two files."""
    from pinterest_pipeline.state import TransformRecord

    events, rejects = "staged_pinterest_events", "staged_pinterest_rejects"
    with state_from(config).session() as session:
        source_view = _register_warehouse_day(session.con, source, sql_files, args.day, config)
        result = transform(
            session.con,
            source_view,
            config,
            now=now,
            events_table=events,
            rejects_table=rejects,
            source_label=label,
            temporary=True,
        )
        record = TransformRecord(
            now, int(config.max_event_age.total_seconds()), int(config.max_future_skew.total_seconds())
        )
        session.write_day(
            args.day,
            {
                **{sql_file.stem: _staged(sql_file.stem) for sql_file in sql_files},
                EVENTS_TABLE: events,
                REJECTS_TABLE: rejects,
            },
            transform_record=record,
        )
        write_table_files(session.con, events, rejects, args.out, args.rejected)
    return result


def run(args: argparse.Namespace) -> int:
    warehouse_day = args.warehouse is not None or args.warehouse_adbc is not None or args.sql_dir is not None
    if (args.input is None) == (not warehouse_day):
        raise ConfigError("give either INPUT or --warehouse/--warehouse-adbc/--sql-dir with --day")
    if warehouse_day and args.day is None:
        raise ConfigError("a warehouse extract needs --day YYYY-MM-DD")
    if args.input is not None and args.day is not None:
        raise ConfigError("--day goes with --warehouse/--warehouse-adbc/--sql-dir, not with INPUT")
    if args.warehouse_adbc is not None and args.sql_dir is None:
        raise ConfigError("--warehouse-adbc needs --sql-dir DIR with extract SQL in the warehouse's dialect")
    if args.state is not None and not warehouse_day:
        raise ConfigError("--state stores a warehouse day: give --warehouse, --warehouse-adbc or --sql-dir with --day")
    config = _config(args)
    now = args.now or datetime.now(timezone.utc)
    source, sql_files, label = None, [], args.input
    if warehouse_day:
        source = WarehouseSource.from_cli_options(args.warehouse, args.warehouse_adbc)
        sql_files = extract_files(args.sql_dir)
        label = f"{source.describe()} {args.day}"
    try:
        if warehouse_day and (args.state is not None or _state_in_environment()):
            result = _transform_into_state(args, config, now, source, sql_files, label)
        else:
            result = _transform_to_files(args, config, now, source, sql_files, label)
    except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException) as exc:
        # Bad data found while reading the whole input (past what type sniffing saw).
        raise InputError(f"{label}: {first_line(exc)}") from None
    print(summary(result, args.out, args.rejected))
    if result.rejected_for_one_reason:
        # The files are written (an audit of what was wrong), but a run that sends nothing fails.
        print(f"pinterest-pipeline transform: error: {label}: {result.rejected_for_one_reason}", file=sys.stderr)
        return 1
    return 0


def _transform_to_files(
    args: argparse.Namespace,
    config: PipelineConfig,
    now: datetime,
    source: WarehouseSource | None,
    sql_files: list[Path],
    label: str,
) -> TransformResult:
    """INPUT or a warehouse day transformed in memory and streamed into the two files."""
    with bounded_connection() as con, _Progress(con) as progress:
        progress.stage("opening input")
        if source is None:
            source_view = register_source(con, args.input)
        else:
            source_view = _register_warehouse_day(con, source, sql_files, args.day, config)
        checked = check_rows(con, source_view, config, now=now, source_label=label, on_stage=progress.stage)
        progress.stage("normalizing, hashing and writing events")
        warnings = write_transform_files(con, checked, args.out, args.rejected, on_progress=progress.share)
        return checked.result(warnings)


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
    if result.custom_event_names:
        lines.append(
            "sent as custom (no mapping): "
            + ", ".join(f"{name} {count:,}" for name, count in list(result.custom_event_names.items())[:SHOWN_NAMES])
            + (
                f", and {len(result.custom_event_names) - SHOWN_NAMES} more"
                if len(result.custom_event_names) > SHOWN_NAMES
                else ""
            )
        )
    if result.ignored_columns:
        lines.append("ignored columns: " + ", ".join(result.ignored_columns))
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

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                transient=True,
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
