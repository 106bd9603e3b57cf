"""The `pinterest-pipeline` command: one console script over the same engine the assets use.

Each subcommand lives in `pinterest_pipeline.commands.<name>` with a `register(subparsers)` that adds
its parser and sets `handler`; a handler returns the exit code. Errors the user can act on are
`PipelineError`s and print as one line; `--debug` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pinterest_pipeline import __version__
from pinterest_pipeline.errors import PipelineError

SUBCOMMANDS = ("demo", "transform", "send", "status", "fake_api", "sample_warehouse")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pinterest-pipeline",
        description="Send warehouse conversions to the Pinterest API for Conversions.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"pinterest_pipeline.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except PipelineError as exc:
        if args.debug:
            raise
        print(f"pinterest-pipeline {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
