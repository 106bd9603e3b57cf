"""The `pinterest-pipeline` command: one console script over the same engine the assets use.

Each subcommand lives in `pinterest_pipeline.commands.<name>` with a `register(subparsers)` that adds
its parser and sets `handler`; a handler returns the exit code. Errors the user can act on are
`PipelineError`s and print as one line; `--debug` shows the traceback.

Only the module of the command being run is imported: `send` and `fake-api` pull in the HTTP
stacks, whose import would slow every `transform`'s start-up for nothing.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pinterest_pipeline import __version__
from pinterest_pipeline.errors import PipelineError

SUBCOMMANDS = ("demo", "transform", "send", "status", "fake_api", "sample_warehouse")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or only with the one `argv` names (help and errors then
    list the others only when no known command is named)."""
    parser = argparse.ArgumentParser(
        prog="pinterest-pipeline",
        description="Send warehouse conversions to the Pinterest API for Conversions.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _named_command(sys.argv[1:] if argv is None else argv)
    for name in SUBCOMMANDS if chosen is None else (chosen,):
        importlib.import_module(f"pinterest_pipeline.commands.{name}").register(subparsers)
    return parser


def _named_command(argv: list[str]) -> str | None:
    """The module of the subcommand `argv` runs: its first word, as the global options take no value."""
    words = [word for word in argv if not word.startswith("-")]
    if not words or "_" in words[0]:  # commands are spelled with dashes: `fake_api` is not one
        return None
    module = words[0].replace("-", "_")
    return module if module in SUBCOMMANDS else None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
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
