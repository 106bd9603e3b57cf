"""The pipeline's state store: a DuckDB file (embedded default) or PostgreSQL (production).

    state = open_state(config.state)          # a path, or a postgresql:// URL
    with state.session() as s:
        ...                                   # see `StateSession`
"""

from __future__ import annotations

from pathlib import Path

from pinterest_pipeline.state.base import PipelineState, StateError, StateSession, TransformRecord
from pinterest_pipeline.state.postgres_connection import is_postgres_url


def open_state(state: str | Path, **options) -> PipelineState:
    """The state at `state`: a `postgresql://` (or `postgres://`) URL means PostgreSQL, anything else
    a DuckDB file path. Nothing is connected until a session starts. `options`: `lock_wait_s` for a
    DuckDB file (how long to wait while another process holds it)."""
    if isinstance(state, PipelineState):
        return state
    if is_postgres_url(str(state)):
        from pinterest_pipeline.state.postgres import PostgresState

        return PostgresState(str(state))
    from pinterest_pipeline.state.duckdb_file import DuckDBFileState

    return DuckDBFileState(state, **options)


__all__ = ["PipelineState", "StateError", "StateSession", "TransformRecord", "open_state"]
