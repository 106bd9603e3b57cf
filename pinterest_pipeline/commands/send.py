"""`pinterest-pipeline send` (being built)."""

import argparse

from pinterest_pipeline.errors import PipelineError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("send", help="(being built)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise PipelineError("'send' is not available yet")
