"""The pipeline state: one interface, a DuckDB file or a PostgreSQL database behind it (docs/state.md).

The state holds every table a later run reads: each extract's rows per day, the day's events and
rejects, what each transform recorded (`conversion_transforms`) and the delivery ledger. Compute
always runs in DuckDB: a `StateSession` has a DuckDB connection `con` where a step stages what it
needs, runs the engine's SQL and stages its results, which `write_day` then stores.

    with open_state(".pinterest_pipeline/pipeline.duckdb").session() as s:   # or "postgresql://..."
        s.stage_day_source(day, ["extract_orders", "extract_events"], "conversion_source")
        transform(s.con, "conversion_source", config, now=now, events_table="staged_events",
                  rejects_table="staged_rejects", temporary=True)
        s.write_day(day, {"pinterest_events": "staged_events", "pinterest_rejects": "staged_rejects"},
                    transform_record=TransformRecord(now, age_s, skew_s))
        events = s.stage_events([day], "upload_events")
        report = s.deliver(events, target, config, partition_days=[day])

With a DuckDB file, `con` is a connection to the file and staging is a view over its tables; with
PostgreSQL, `con` is the step's own DuckDB database and staging copies the days from the server.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.delivery.accounting import DeliveryAccounting, LedgerDaySummary
from pinterest_pipeline.delivery.deliver import DeliveryReport
from pinterest_pipeline.delivery.target import PinterestTarget
from pinterest_pipeline.errors import PipelineError
from pinterest_pipeline.pipeline_tables import EXTRACT_TABLES


class StateError(PipelineError):
    """The state cannot be opened or read: names the store (never a password) and what to do."""


@dataclass(frozen=True)
class TransformRecord:
    """The clock and age limits a day was transformed with (the `event_time_window` check re-uses them)."""

    transformed_at: datetime
    max_event_age_s: int
    max_future_skew_s: int


class StateSession(ABC):
    """One step's work on the state. `con` is the DuckDB connection the step computes in."""

    con: duckdb.DuckDBPyConnection

    @abstractmethod
    def write_day(
        self, day: date, tables: Mapping[str, str], *, transform_record: TransformRecord | None = None
    ) -> None:
        """Replace `day`'s rows of each state table (key) with the rows of a relation in `con` (value),
        and record the transform, all in one transaction: a crash never leaves a day half replaced."""

    @abstractmethod
    def stage_day_source(self, day: date, extract_tables: Sequence[str], view: str) -> None:
        """A temp view `view` in `con` over the extracts' rows of `day`, placed in extract order
        (`pipeline_tables.stage_day_source`)."""

    @abstractmethod
    def stage_events(self, days: Sequence[date] | None, name: str, *, columns: Sequence[str] | None = None) -> str:
        """The events of `days` (None: all) readable in `con` as `name` (only `columns` if given); returns `name`."""

    @abstractmethod
    def stage_checked_events(self, days: list[date] | None, extract_tables: Sequence[str] = EXTRACT_TABLES) -> int:
        """`check_queries.stage_checked_events` on the state's tables; afterwards
        `check_queries.find_offenders(s.con, ...)`."""

    @abstractmethod
    def extracted_rows(self, extract_tables: Sequence[str], days: list[date] | None) -> int:
        """Rows the extracts read on `days` (None: every day)."""

    @abstractmethod
    def rejects_by_reason(self, days: list[date] | None) -> dict[str, int]:
        """Rows the transform rejected before any request, per reason."""

    @abstractmethod
    def transform_records(self, days: list[date] | None) -> dict[date, TransformRecord]:
        """What each transform of `days` recorded."""

    @abstractmethod
    def table_exists(self, table: str) -> bool:
        """Whether the state holds `table` (any day of it)."""

    @abstractmethod
    def deliver(self, events_table: str, target: PinterestTarget, config: PipelineConfig, **options) -> DeliveryReport:
        """`delivery.deliver` of `events_table` (a relation in `con`) with this state's ledger; `options`
        are `deliver`'s keyword arguments (`partition_days`, `resend_failed`, `progress`, ...)."""

    @abstractmethod
    def delivery_accounting(
        self, events_table: str, ad_account_id: str, *, partition_days: Iterable[date] | None = None, test: bool = False
    ) -> DeliveryAccounting:
        """`delivery.delivery_accounting` of `events_table` (in `con`) against this state's ledger."""

    @abstractmethod
    def ledger_summary(
        self,
        *,
        ad_account_id: str | None = None,
        test: bool | None = None,
        partition_days: Iterable[date] | None = None,
    ) -> list[LedgerDaySummary]:
        """Ledger status counts per (partition_day, ad_account_id, test), ordered by day."""


class PipelineState(ABC):
    """Where the pipeline keeps its tables. Opening one connects to nothing; `session()` does."""

    @property
    @abstractmethod
    def display_name(self) -> str:
        """How messages name the store: a file path, or `postgresql://host:port/database` (no password)."""

    def describe(self) -> str:
        return self.display_name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.display_name!r})"

    @abstractmethod
    def session(self, *, read_only: bool = False) -> AbstractContextManager[StateSession]:
        """A session for one step: its DuckDB connection, and the store's connections it needs."""

    def exists(self) -> bool:
        """Whether anything was ever stored (a DuckDB file that exists; a PostgreSQL database always)."""
        return True


def iterate_days(days: Iterable[date] | None) -> list[date] | None:
    return None if days is None else sorted(set(days))
