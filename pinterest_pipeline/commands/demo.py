"""`pinterest-pipeline demo`: the whole pipeline on sample data, end to end, in one command.

It builds a sample warehouse (once), writes a small Dagster project around it (the component's
`defs.yaml` and the two extract SQL files, pointed at the warehouse and the local fake Pinterest
API), starts the fake API in this process and runs every asset and check of that project for the
last few days in a Dagster instance of its own, all under `--dir`. The last day is left unsent, for
an upload from the UI. A second run sends nothing again: the delivery ledger in the pipeline
database remembers every event Pinterest accepted.

This is the one engine command that imports the Dagster integration: the demo exists to show it.
"""

from __future__ import annotations

import argparse
import warnings
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from pinterest_pipeline.errors import PipelineError
from pinterest_pipeline.support.environment import variable_set

DEFAULT_DIR = "pinterest_demo"
# Where `pinterest-pipeline fake-api` listens by default: the project's uploads from the UI go there.
FAKE_API_PORT = 8089
_CHECK_HINTS = {
    "ldp_flags": "some events set LDP without hashed st = ca and country = us, where it cannot take effect"
    " (they are still sent)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="sample warehouse + local fake API + a Dagster project with all assets and checks for the last days",
        description=(
            "Write a Dagster project over a sample warehouse and a local fake Pinterest API, run every asset and"
            " check for the last DAYS days (the last one left unsent, for the UI), then print what happened per"
            " day. Run it twice: nothing is sent twice."
        ),
    )
    parser.add_argument(
        "--dir", default=DEFAULT_DIR, help=f"the project directory it writes (default: ./{DEFAULT_DIR})"
    )
    parser.add_argument("--days", type=int, default=3, help="how many recent days to materialize (default: 3)")
    parser.add_argument("--rows-per-day", type=int, default=2000, help="sample conversion rows per day (default: 2000)")
    parser.add_argument(
        "--port", type=int, default=FAKE_API_PORT, help=f"port of the local fake API (default: {FAKE_API_PORT})"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.days < 1 or args.rows_per_day < 1:
        raise PipelineError("--days and --rows-per-day must be at least 1")
    # Dagster is imported here, not at the top: the other commands must not pay for it.
    from pinterest_pipeline.dagster import demo
    from pinterest_pipeline.fake_api import FakePinterestApi
    from pinterest_pipeline.sample.warehouse import generate_sample_warehouse

    console = Console()
    project = demo.DemoProject(Path(args.dir).resolve())
    project.root.mkdir(parents=True, exist_ok=True)
    today = datetime.now(timezone.utc).date()
    days = [(today - timedelta(days=n)).isoformat() for n in range(args.days, 0, -1)]

    if project.warehouse.exists():
        console.print(f"Sample warehouse: [bold]{project.warehouse}[/] (kept from an earlier run)", soft_wrap=True)
    else:
        summary = generate_sample_warehouse(project.warehouse, days=args.days, rows_per_day=args.rows_per_day)
        console.print(
            f"Sample warehouse: [bold]{project.warehouse}[/] ({summary.conversion_rows:,} conversion rows,"
            f" {summary.first_day} to {summary.last_day})",
            soft_wrap=True,
        )
    instance = project.open_instance()
    # The last day stays unsent (when there is more than one), so an upload from the UI sends something.
    unsent = days[-1] if len(days) > 1 else None

    try:
        fake_api = FakePinterestApi(port=args.port)
        fake_api.__enter__()
    except OSError:
        raise PipelineError(
            f"port {args.port} is in use (is `pinterest-pipeline fake-api` running?): stop it or pass --port"
        ) from None
    try:
        console.print(f"Fake Pinterest API: {fake_api.url} (ad account {fake_api.ad_account_id})")
        project.write(date.fromisoformat(days[0]), fake_api.ad_account_id, fake_api.access_token, args.port)
        console.print(f"Dagster project: [bold]{project.component_dir / 'defs.yaml'}[/]", soft_wrap=True)
        # The fake API's token in the variable the project's `access_token_env` names, for the demo's
        # own runs (`dg dev` reads it from the project's `.env`).
        with variable_set(demo.TOKEN_ENV, fake_api.access_token), warnings.catch_warnings():
            # Dagster's note to definition authors that the daily job's assets differ in backfill policy
            # (by design: the upload goes one day per run) means nothing to someone running the demo.
            warnings.filterwarnings("ignore", message=r"Asset job .* materializes assets with varying BackfillPolicies")
            definitions = project.load_definitions()
            summaries = []
            for day in days:
                with console.status(f"Materializing {day}: extract, transform, checks, upload..."):
                    summaries.append(demo.run_day(instance, definitions, day, upload=day != unsent))
        received = len(fake_api.received)
    finally:
        fake_api.__exit__(None, None, None)

    console.print(_summary_table(summaries))
    for note in _check_notes(summaries):
        console.print(note)
    if any(s.rejected_by_reason for s in summaries):
        console.print(_rejects_table(summaries))
    _print_outcome(console, summaries, received)
    console.print(
        "\nOpen the project in the Dagster UI"
        + (f" and upload {unsent} from there" if unsent else "")
        + " (the fake API in one terminal, the UI in another):",
        soft_wrap=True,
    )
    console.print(f"  pinterest-pipeline fake-api --port {args.port}", soft_wrap=True, highlight=False)
    console.print(
        f"  cd {project.root} && DAGSTER_HOME={project.dagster_home} dg dev", soft_wrap=True, highlight=False
    )
    ok = all(
        s.run_succeeded and not s.checks_failed and (s.day == unsent or (s.uploaded and s.accounted))
        for s in summaries
    )
    return 0 if ok else 1


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
            _sent_cell(s),
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


def _sent_cell(summary) -> str:
    if summary.uploaded:
        return f"{summary.sent:,}"
    if summary.run_succeeded and not summary.checks_failed:
        return "[yellow]left for the UI[/]"
    return "[red]blocked[/]"


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
