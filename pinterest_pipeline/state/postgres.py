"""The production state: every table on a PostgreSQL server, compute in the step's own DuckDB (docs/production.md).

A session opens an in-memory DuckDB connection (bounded memory, spilling to a private temp
directory) and an ADBC connection to the server. Staging copies the days a step reads from the
server into DuckDB under the tables' own names, so the engine's SQL runs exactly as on a DuckDB
file; `write_day` copies a step's results back, replacing the day in one server transaction.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date

import duckdb

from pinterest_pipeline import check_queries, pipeline_tables
from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.delivery.accounting import DeliveryAccounting, LedgerDaySummary
from pinterest_pipeline.delivery.deliver import DeliveryReport, deliver
from pinterest_pipeline.delivery.ledger import LedgerScope
from pinterest_pipeline.delivery.target import PinterestTarget
from pinterest_pipeline.pipeline_tables import EVENTS_TABLE, EXTRACT_TABLES, REJECTS_TABLE, TRANSFORMS_TABLE
from pinterest_pipeline.state import postgres_ledger
from pinterest_pipeline.state.base import PipelineState, StateError, StateSession, TransformRecord
from pinterest_pipeline.state.postgres_connection import PostgresLocation
from pinterest_pipeline.state.postgres_tables import (
    bulk_transaction,
    catalog,
    day_filter,
    ensure_tables,
    load_day_rows,
    record_transform,
    relation_columns,
    replace_day_rows,
)
from pinterest_pipeline.support.sql_identifiers import quote_identifier as q

STEP_DATABASE = "step.duckdb"  # in the session's private scratch directory

# The columns of the checks' inputs: the events as sent, and the LDP flags of the source rows.
_CHECKED_EVENT_COLUMNS = ("event_id", "event_json")
_LDP_SOURCE_COLUMNS = ("event_id", "opt_out_type")


class PostgresState(PipelineState):
    def __init__(self, url: str) -> None:
        self.location = PostgresLocation.parse(url)

    @property
    def display_name(self) -> str:
        return self.location.display_name

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[PostgresSession]:
        with ExitStack() as stack:
            bulk = self.location.connect_bulk()
            stack.callback(bulk.close)
            # A temporary database file, not an in-memory one: a day's events (about 1 GB per 1M)
            # live on disk, as in a DuckDB-file state. DuckDB's own memory limit applies, as it does
            # to a DuckDB-file state's steps: under the CLI transform's 256 MB, the send plan of a
            # 1M-event day (a sort of 1 GB of texts) ran out of memory.
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="pinterest-pipeline-step-"))
            con = duckdb.connect(os.path.join(scratch, STEP_DATABASE))
            stack.callback(con.close)
            con.execute("SET temp_directory = $directory", {"directory": scratch})
            con.execute("SET enable_progress_bar = false")
            yield PostgresSession(self.location, bulk, con)


class PostgresSession(StateSession):
    def __init__(self, location: PostgresLocation, bulk, con: duckdb.DuckDBPyConnection) -> None:
        self.location = location
        self.bulk = bulk
        self.con = con

    def write_day(
        self, day: date, tables: Mapping[str, str], *, transform_record: TransformRecord | None = None
    ) -> None:
        columns = {
            table: {name: kind for name, kind in relation_columns(self.con, staged).items() if name != "partition_day"}
            for table, staged in tables.items()
        }
        ensure_tables(
            self.bulk, {table: cols for table, cols in columns.items()}, transforms=transform_record is not None
        )
        with bulk_transaction(self.bulk) as cursor:
            for table, staged in tables.items():
                replace_day_rows(cursor, self.con, table, staged, columns[table], day)
            if transform_record is not None:
                record_transform(
                    cursor,
                    day,
                    transform_record.transformed_at,
                    transform_record.max_event_age_s,
                    transform_record.max_future_skew_s,
                )

    def stage_day_source(self, day: date, extract_tables: Sequence[str], view: str) -> None:
        known = catalog(self.bulk, list(extract_tables))
        for table in extract_tables:
            if table in known:
                load_day_rows(self.bulk, self.con, table, {"partition_day": "DATE", **known[table]}, [day], table)
        if not known:
            raise StateError(
                f"no extract has been materialized yet in {self.location}:"
                f" materialize {' and '.join(extract_tables)} first"
            )
        pipeline_tables.stage_day_source(self.con, day, view, [table for table in extract_tables if table in known])

    def stage_events(self, days: Sequence[date] | None, name: str, *, columns: Sequence[str] | None = None) -> str:
        self._load(EVENTS_TABLE, days, name, columns)
        return name

    def stage_checked_events(self, days: list[date] | None, extract_tables: Sequence[str] = EXTRACT_TABLES) -> int:
        known = catalog(self.bulk, [EVENTS_TABLE, *extract_tables])
        if EVENTS_TABLE not in known:
            return check_queries.stage_checked_events(self.con, days, ())
        self._load(EVENTS_TABLE, days, EVENTS_TABLE, _CHECKED_EVENT_COLUMNS, known)
        records = self.transform_records(days)
        self.con.execute(
            f"CREATE OR REPLACE TABLE {TRANSFORMS_TABLE} (partition_day DATE, transformed_at TIMESTAMPTZ, "
            "max_event_age_s BIGINT, max_future_skew_s BIGINT)"
        )
        self.con.executemany(
            f"INSERT INTO {TRANSFORMS_TABLE} VALUES (?, ?, ?, ?)",
            [(day, r.transformed_at, r.max_event_age_s, r.max_future_skew_s) for day, r in records.items()],
        )
        flagged = [table for table in extract_tables if "opt_out_type" in known.get(table, {})]
        for table in flagged:
            self._load(table, days, table, _LDP_SOURCE_COLUMNS, known)
        return check_queries.stage_checked_events(self.con, days, flagged)

    def extracted_rows(self, extract_tables: Sequence[str], days: list[date] | None) -> int:
        known = catalog(self.bulk, list(extract_tables))
        return sum(self._count(table, days) for table in extract_tables if table in known)

    def rejects_by_reason(self, days: list[date] | None) -> dict[str, int]:
        if REJECTS_TABLE not in catalog(self.bulk, [REJECTS_TABLE]):
            return {}
        where, parameters = day_filter(days)
        with bulk_transaction(self.bulk) as cursor:
            cursor.execute(f"SELECT reason, count(*) FROM {REJECTS_TABLE} WHERE {where} GROUP BY reason", parameters)
            return {reason: int(count) for reason, count in cursor.fetchall()}

    def transform_records(self, days: list[date] | None) -> dict[date, TransformRecord]:
        if not self._exists(TRANSFORMS_TABLE):
            return {}
        where, parameters = day_filter(days)
        with bulk_transaction(self.bulk) as cursor:
            cursor.execute(
                f"SELECT partition_day, transformed_at, max_event_age_s, max_future_skew_s FROM {TRANSFORMS_TABLE} "
                f"WHERE {where} ORDER BY partition_day",
                parameters,
            )
            rows = cursor.fetchall()
        return {day: TransformRecord(at, int(age), int(skew)) for day, at, age, skew in rows}

    def table_exists(self, table: str) -> bool:
        return self._exists(table)

    def deliver(self, events_table: str, target: PinterestTarget, config: PipelineConfig, **options) -> DeliveryReport:
        store = postgres_ledger.PostgresLedger(self.location, self.bulk, self.con)
        return deliver(self.con, events_table, target, config, ledger_store=store, **options)

    def delivery_accounting(
        self, events_table: str, ad_account_id: str, *, partition_days: Iterable[date] | None = None, test: bool = False
    ) -> DeliveryAccounting:
        scope = LedgerScope(ad_account_id, test, tuple(partition_days) if partition_days is not None else None)
        return postgres_ledger.accounting(self.bulk, self.con, events_table, scope)

    def ledger_summary(
        self,
        *,
        ad_account_id: str | None = None,
        test: bool | None = None,
        partition_days: Iterable[date] | None = None,
    ) -> list[LedgerDaySummary]:
        days = list(partition_days) if partition_days is not None else None
        return postgres_ledger.summary(self.bulk, ad_account_id=ad_account_id, test=test, partition_days=days)

    def _load(self, table: str, days, name: str, columns: Sequence[str] | None, known=None) -> None:
        known = known if known is not None else catalog(self.bulk, [table])
        if table not in known:
            raise StateError(f"{table} does not exist in {self.location}: nothing was stored in it yet")
        types = {"partition_day": "DATE", **known[table]}
        wanted = {column: types[column] for column in (("partition_day", *columns) if columns else types)}
        load_day_rows(self.bulk, self.con, table, wanted, days, name)

    def _count(self, table: str, days) -> int:
        where, parameters = day_filter(days)
        with bulk_transaction(self.bulk) as cursor:
            cursor.execute(f"SELECT count(*) FROM {q(table)} WHERE {where}", parameters)
            return int(cursor.fetchone()[0])

    def _exists(self, table: str) -> bool:
        with bulk_transaction(self.bulk) as cursor:
            cursor.execute("SELECT to_regclass($1) IS NOT NULL", (q(table),))
            return bool(cursor.fetchone()[0])
