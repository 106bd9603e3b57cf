"""`pinterest-pipeline sample-warehouse` (being built)."""

import argparse

from pinterest_pipeline.errors import PipelineError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sample-warehouse", help="(being built)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise PipelineError("'sample-warehouse' is not available yet")
