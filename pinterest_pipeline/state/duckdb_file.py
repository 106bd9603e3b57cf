"""The embedded state: one DuckDB file holding every table, today's behaviour.

Event texts are stored with zstd (`storage.py`), a day's source view places rows by the extract
tables' rowids (`pipeline_tables.stage_day_source`), and a day is replaced in one DuckDB transaction.

DuckDB admits one process per file (a writer locks it). A second process does not fail at once:
it waits up to `lock_wait_s` (10 s by default) for the file, as a short step (a `status`, a
checks run) finishes well within that, then fails with one line naming the file and the process
holding it. Concurrent senders therefore queue on the file; to run them side by side, use a
PostgreSQL state.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

from pinterest_pipeline import check_queries, pipeline_tables
from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.delivery.accounting import (
    DeliveryAccounting,
    LedgerDaySummary,
    delivery_accounting,
    ledger_summary,
)
from pinterest_pipeline.delivery.deliver import DeliveryReport, deliver
from pinterest_pipeline.delivery.target import PinterestTarget
from pinterest_pipeline.pipeline_tables import (
    EVENTS_TABLE,
    EXTRACT_TABLES,
    TRANSFORMS_TABLE,
    record_transform,
    replace_day,
    transaction,
)
from pinterest_pipeline.state.base import PipelineState, StateError, StateSession, TransformRecord
from pinterest_pipeline.support.sql_identifiers import quote_identifier

DEFAULT_LOCK_WAIT_S = 10.0
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


class DuckDBFileState(PipelineState):
    def __init__(self, path: str | Path, *, lock_wait_s: float = DEFAULT_LOCK_WAIT_S) -> None:
        self.path = Path(path)
        self.lock_wait_s = lock_wait_s

    @property
    def display_name(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return self.path.is_file()

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[DuckDBFileSession]:
        if read_only and not self.path.is_file():
            raise StateError(f"no pipeline database at {self.path}: nothing was stored in it yet")
        con = self.connect(read_only=read_only)
        session = DuckDBFileSession(con)
        try:
            yield session
        finally:
            session.drop_staged()
            con.close()

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection to the file, waiting up to `lock_wait_s` while another process holds it."""
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait_s
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.IOException as error:
                holder = _LOCK_HOLDER.search(str(error))
                if holder is None:
                    raise StateError(f"cannot open the pipeline database {self.path}: {error}") from None
                if time.monotonic() >= deadline:
                    raise StateError(
                        f"the pipeline database {self.path} is in use by another process (PID {holder[2]}) and"
                        f" stayed locked for {self.lock_wait_s:g} s: DuckDB admits one process per file; wait for it"
                        " to finish, or use a postgresql:// state to run several at once"
                    ) from None
                time.sleep(0.2)
            except duckdb.Error as error:
                raise StateError(f"cannot open the pipeline database {self.path}: {error}") from None
        # Steps log to Dagster or print a summary: DuckDB's progress bar would only garble the output.
        con.execute("SET enable_progress_bar = false")
        return con


class DuckDBFileSession(StateSession):
    """Everything happens in the file: staging a day is a view over its tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._staged_views: set[str] = set()

    def write_day(
        self, day: date, tables: Mapping[str, str], *, transform_record: TransformRecord | None = None
    ) -> None:
        with transaction(self.con):
            for table, staged in tables.items():
                replace_day(self.con, table, staged, day)
            if transform_record is not None:
                record_transform(
                    self.con,
                    day,
                    transform_record.transformed_at,
                    transform_record.max_event_age_s,
                    transform_record.max_future_skew_s,
                )

    def stage_day_source(self, day: date, extract_tables: Sequence[str], view: str) -> None:
        pipeline_tables.stage_day_source(self.con, day, view, extract_tables)

    def stage_events(self, days: Sequence[date] | None, name: str, *, columns: Sequence[str] | None = None) -> str:
        """A view in the file, not a TEMP one: the send plan reads it from a cursor of its own, which
        does not see this connection's temporary objects. Dropped when the session ends."""
        selected = ", ".join(quote_identifier(column) for column in columns) if columns else "*"
        if not self.table_exists(EVENTS_TABLE):
            raise StateError(f"{EVENTS_TABLE} does not exist in {self.con_name()}: nothing was stored in it yet")
        where = f" WHERE partition_day IN (SELECT unnest({_date_list(days)}))" if days is not None else ""
        self.con.execute(
            f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS SELECT {selected} FROM {EVENTS_TABLE}{where}"
        )
        self._staged_views.add(name)
        return name

    def drop_staged(self) -> None:
        for name in self._staged_views:
            self.con.execute(f"DROP VIEW IF EXISTS {quote_identifier(name)}")
        self._staged_views.clear()

    def stage_checked_events(self, days: list[date] | None, extract_tables: Sequence[str] = EXTRACT_TABLES) -> int:
        return check_queries.stage_checked_events(self.con, days, extract_tables)

    def extracted_rows(self, extract_tables: Sequence[str], days: list[date] | None) -> int:
        return pipeline_tables.extracted_rows(self.con, days, extract_tables)

    def rejects_by_reason(self, days: list[date] | None) -> dict[str, int]:
        return pipeline_tables.rejects_by_reason(self.con, days)

    def transform_records(self, days: list[date] | None) -> dict[date, TransformRecord]:
        if not self.table_exists(TRANSFORMS_TABLE):
            return {}
        rows = self.con.execute(
            f"SELECT partition_day, transformed_at, max_event_age_s, max_future_skew_s FROM {TRANSFORMS_TABLE} "
            "WHERE $days::DATE[] IS NULL OR list_contains($days::DATE[], partition_day) ORDER BY partition_day",
            {"days": days},
        ).fetchall()
        return {day: TransformRecord(at, age, skew) for day, at, age, skew in rows}

    def table_exists(self, table: str) -> bool:
        return pipeline_tables.table_exists(self.con, table)

    def deliver(self, events_table: str, target: PinterestTarget, config: PipelineConfig, **options) -> DeliveryReport:
        return deliver(self.con, events_table, target, config, **options)

    def delivery_accounting(
        self, events_table: str, ad_account_id: str, *, partition_days: Iterable[date] | None = None, test: bool = False
    ) -> DeliveryAccounting:
        return delivery_accounting(self.con, events_table, ad_account_id, partition_days=partition_days, test=test)

    def ledger_summary(self, **filters) -> list[LedgerDaySummary]:
        return ledger_summary(self.con, **filters)

    def con_name(self) -> str:
        row = self.con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
        return (row[0] if row else None) or "the pipeline database"


def _date_list(days: Sequence[date]) -> str:
    # Dates, never user text: a view cannot hold bound parameters.
    return "[" + ", ".join(f"DATE '{day.isoformat()}'" for day in days) + "]::DATE[]"
