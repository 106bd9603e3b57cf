"""The `--state` option `send`, `status` and `transform` share: a DuckDB file or a PostgreSQL URL.

Without the option, the state comes from the config (`state` in the TOML file, or the
`PINTEREST_PIPELINE_STATE` environment variable), else `.pinterest_pipeline/pipeline.duckdb`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pinterest_pipeline.config import PipelineConfig

if TYPE_CHECKING:
    from pinterest_pipeline.state import PipelineState

STATE_HELP = (
    "where the pipeline keeps its tables and delivery ledger: a DuckDB file, or a "
    "postgresql://user:password@host:port/database URL (default: PINTEREST_PIPELINE_STATE, "
    "else .pinterest_pipeline/pipeline.duckdb)"
)


def add_state_option(parser: argparse.ArgumentParser, help_text: str = STATE_HELP) -> None:
    # Kept as text: a URL must not become a Path, which would fold its `//`.
    parser.add_argument("--state", metavar="DB_OR_URL", help=help_text)


def state_from(config: PipelineConfig) -> PipelineState:
    """The state the command works on; `config` was loaded with `state=args.state` as an override.
    (Imported here: the state brings the delivery's HTTP stack, which a plain `transform` does not load.)"""
    from pinterest_pipeline.state import open_state

    return open_state(config.state)
