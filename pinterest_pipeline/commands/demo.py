"""`pinterest-pipeline demo`: the whole pipeline on sample data, end to end, in one command.

It builds a sample warehouse (once), starts the local fake Pinterest API in this process, points
the Dagster resources at both through the environment, and materializes every asset and check for
the last few days in a Dagster instance of its own under `--dir`. A second run sends nothing again:
the delivery ledger in the pipeline database remembers every event Pinterest accepted.

This is the one engine module that imports `dagster_project`: the demo exists to show the assets.
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from pinterest_pipeline.errors import PipelineError

DEFAULT_DIR = "pinterest_demo"
# Where `pinterest-pipeline fake-api` listens by default: the UI's uploads go there.
FAKE_API_PORT = 8089
_CHECK_HINTS = {
    "ldp_flags": "some events set LDP without hashed st = ca and country = us, where it cannot take effect"
    " (they are still sent)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="sample warehouse + local fake API + all Dagster assets and checks for the last days",
        description=(
            "Run every asset and check for the last DAYS days against a sample warehouse and a local fake"
            " Pinterest API, then print what happened per day. Run it twice: nothing is sent twice."
        ),
    )
    parser.add_argument(
        "--dir", default=DEFAULT_DIR, help=f"working directory for all files (default: ./{DEFAULT_DIR})"
    )
    parser.add_argument("--days", type=int, default=3, help="how many recent days to materialize (default: 3)")
    parser.add_argument("--rows-per-day", type=int, default=2000, help="sample conversion rows per day (default: 2000)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.days < 1 or args.rows_per_day < 1:
        raise PipelineError("--days and --rows-per-day must be at least 1")
    # Dagster is imported here, not at the top: the other commands must not pay for it. Its notes
    # to definition authors (beta parameters) mean nothing to someone running the demo.
    warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy` of function `asset` is currently in beta")
    from dagster_project import demo_runs
    from dagster_project.definitions import build_definitions, resources_from_environment
    from pinterest_pipeline.fake_api import FakePinterestApi
    from pinterest_pipeline.sample.warehouse import generate_sample_warehouse

    console = Console()
    workdir = Path(args.dir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = workdir / "warehouse.duckdb"
    state = workdir / "pipeline.duckdb"
    days = demo_runs.last_partition_keys(args.days)

    if warehouse.exists():
        console.print(f"Sample warehouse: [bold]{warehouse}[/] (kept from an earlier run)")
    else:
        summary = generate_sample_warehouse(warehouse, days=args.days, rows_per_day=args.rows_per_day)
        console.print(
            f"Sample warehouse: [bold]{warehouse}[/] ({summary.conversion_rows:,} conversion rows,"
            f" {summary.first_day} to {summary.last_day})"
        )
    instance = demo_runs.open_instance(workdir / "dagster_home")

    with FakePinterestApi() as fake_api:
        console.print(f"Fake Pinterest API: {fake_api.url} (ad account {fake_api.ad_account_id})")
        settings = {
            "PINTEREST_AD_ACCOUNT_ID": fake_api.ad_account_id,
            "PINTEREST_ACCESS_TOKEN": fake_api.access_token,
            "PINTEREST_API_URL": fake_api.url,
            "PINTEREST_TEST_MODE": "false",
            "PINTEREST_WAREHOUSE_PATH": str(warehouse),
            "PINTEREST_PIPELINE_STATE": str(state),
        }
        with _environment(settings):
            definitions = build_definitions(resources_from_environment())
            summaries = []
            for day in days:
                with console.status(f"Materializing {day}: extract, transform, checks, upload..."):
                    summaries.append(demo_runs.run_day(instance, day, definitions))
        received = len(fake_api.received)

    console.print(_summary_table(summaries))
    for note in _check_notes(summaries):
        console.print(note)
    if any(s.rejected_by_reason for s in summaries):
        console.print(_rejects_table(summaries))
    _print_outcome(console, summaries, received)
    _write_dagster_env(workdir, settings)
    console.print(
        "\nBrowse these runs in the Dagster UI (and run [bold]pinterest-pipeline fake-api[/] in another"
        " terminal to upload from there):\n"
        f"  cd {workdir} && DAGSTER_HOME={workdir / 'dagster_home'} dagster dev -m dagster_project.definitions"
    )
    ok = all(s.run_succeeded and s.uploaded and s.accounted and not s.checks_failed for s in summaries)
    return 0 if ok else 1


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the resources, restoring the previous values afterwards."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _summary_table(summaries: list) -> Table:
    table = Table(title="Per day", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in ("day", "rows", "events", "rejected", "sent", "delivered", "failed", "checks"):
        table.add_column(column, justify="left" if column in ("day", "checks") else "right", no_wrap=True)
    for s in summaries:
        checks = f"{len(s.checks_passed)} ok"
        if s.checks_warned:
            checks += f", {len(s.checks_warned)} warn"
        if s.checks_failed:
            checks += f", [red]{len(s.checks_failed)} failed[/]"
        table.add_row(
            s.day,
            f"{s.extracted:,}",
            f"{s.events:,}",
            f"{s.rejected:,}",
            f"{s.sent:,}" if s.uploaded else "[red]blocked[/]",
            f"{s.delivered:,}",
            f"{s.failed:,}",
            checks,
        )
    table.caption = (
        "rows: extracted from the warehouse; events: ready to send; sent: by this run;"
        " delivered/failed: in the delivery ledger"
    )
    table.caption_justify = "left"
    return table


def _check_notes(summaries: list) -> list[str]:
    """One line per check that warned or failed, with the days it did."""
    notes = []
    for attribute, label in (("checks_failed", "[red]failed[/]"), ("checks_warned", "warned")):
        names = sorted({name for s in summaries for name in getattr(s, attribute)})
        for name in names:
            days = [s.day for s in summaries if name in getattr(s, attribute)]
            hint = _CHECK_HINTS.get(name, "see the check's metadata in the Dagster UI")
            notes.append(f"{name} {label} on {', '.join(days)}: {hint}")
    return notes


def _rejects_table(summaries: list) -> Table:
    """Rejected before send, one row per reason, one column per day."""
    table = Table(
        title="Rejected before send, by reason",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("reason")
    for s in summaries:
        table.add_column(s.day, justify="right")
    reasons = sorted({reason for s in summaries for reason in s.rejected_by_reason})
    for reason in reasons:
        table.add_row(reason, *(f"{s.rejected_by_reason.get(reason, 0):,}" for s in summaries))
    return table


def _print_outcome(console: Console, summaries: list, received: int) -> None:
    sent = sum(s.sent for s in summaries)
    settled = sum(s.already_settled for s in summaries)
    if sent == 0 and settled:
        console.print(
            f"Nothing was sent twice: all {settled:,} events were already settled in the delivery ledger by an"
            f" earlier run; the fake API received {received:,} events this time."
        )
    else:
        console.print(f"Sent {sent:,} events; the fake API received {received:,}.")
    unaccounted = [s.day for s in summaries if s.uploaded and not s.accounted]
    if unaccounted:
        console.print(
            f"[red]Rows not accounted for on {', '.join(unaccounted)}: see the accounts_for_every_row check.[/]"
        )


def _write_dagster_env(workdir: Path, settings: dict[str, str]) -> None:
    """`.env` beside the instance: `dagster dev` started in `workdir` reads it, so the UI uses the
    demo's files. The token is the fake API's fixed token, not a secret."""
    values = {**settings, "PINTEREST_API_URL": f"http://127.0.0.1:{FAKE_API_PORT}"}
    lines = ["# Written by `pinterest-pipeline demo`; the token is the local fake API's fixed one.\n"]
    lines += [f"{name}={value}\n" for name, value in values.items()]
    (workdir / ".env").write_text("".join(lines), encoding="utf-8")
