"""The state stores under test: the same session API over a DuckDB file and over a real PostgreSQL 15.

`StoreUnderTest` gives a test the session (`session`), its DuckDB connection (`con`, where events
tables are built) and `ledger_query`, which reads the ledger where it really lives: the DuckDB
file, or the server (never the session's local copy of it).
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass, field

import duckdb

from pinterest_pipeline.state import PipelineState, StateSession, open_state

_NAMED_PARAMETER = re.compile(r"\$(\w+)")


@dataclass
class StoreUnderTest:
    kind: str  # "duckdb" or "postgres"
    location: str  # the file path or the URL, as a user would give it
    state: PipelineState
    session: StateSession
    _stack: ExitStack = field(default_factory=ExitStack)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.session.con

    def ledger_query(self, sql: str, **params) -> list[tuple]:
        """Rows of `sql` (with `$name` parameters) run against the store's own ledger."""
        if self.kind == "duckdb":
            return self.con.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(self.location) as connection:
            return connection.execute(_NAMED_PARAMETER.sub(r"%(\1)s", sql), params).fetchall()

    def ledger_rows(self, *, test: bool = False) -> dict[str, tuple[str, int, str | None]]:
        """event_id -> (status, attempts, last_error) for one mode."""
        rows = self.ledger_query(
            "SELECT event_id, status, attempts, last_error FROM delivery_ledger WHERE test = $test", test=test
        )
        return {event_id: (status, attempts, error) for event_id, status, attempts, error in rows}

    def reopen(self) -> None:
        """A new session on the same store, as the next run would open."""
        self._stack.close()
        self._stack = ExitStack()
        self.session = self._stack.enter_context(self.state.session())

    def close(self) -> None:
        self._stack.close()


def store_under_test(kind: str, tmp_path, postgres_url: str | None) -> StoreUnderTest:
    location = str(tmp_path / "pipeline.duckdb") if kind == "duckdb" else postgres_url
    state = open_state(location)
    stack = ExitStack()
    session = stack.enter_context(state.session())
    return StoreUnderTest(kind, location, state, session, stack)
