"""`pinterest-pipeline fake-api` (being built)."""

import argparse

from pinterest_pipeline.errors import PipelineError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("fake-api", help="(being built)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise PipelineError("'fake-api' is not available yet")
