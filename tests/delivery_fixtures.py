"""Shared builders for the delivery and fake-API tests: events tables made in DuckDB, fast retries."""

from __future__ import annotations

import time
from collections.abc import Iterable

import duckdb

from pinterest_pipeline.config import PipelineConfig, build_config
from pinterest_pipeline.delivery import PinterestTarget, RetryPolicy
from pinterest_pipeline.delivery.rate_limit import RollingWindowLimiter
from pinterest_pipeline.fake_api import FakePinterestApi

# Backoffs of milliseconds keep retry tests fast while still exercising the doubling.
FAST_RETRIES = RetryPolicy(max_attempts=8, backoff_base=0.01, backoff_max=0.05)


def recent_epoch(hours_ago: float = 1.0) -> int:
    """An event_time Pinterest (and the fake) accept: inside the 7-day window."""
    return int(time.time() - hours_ago * 3600)


def create_events_table(
    con: duckdb.DuckDBPyConnection,
    count: int,
    *,
    table: str = "events",
    event_time: int | None = None,
    id_prefix: str = "ev-",
    invalid_rows: Iterable[int] = (),
) -> None:
    """An events table as the transform writes it, with `count` schema-valid checkout events.

    Rows in `invalid_rows` carry an extra key the closed event object refuses, so Pinterest (and
    the fake) answer 400 for any request that holds one of them.
    """
    event_time = event_time if event_time is not None else recent_epoch()
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {table} AS
        SELECT i AS source_row,
               $prefix || i AS event_id,
               'checkout' AS event_name,
               $event_time AS event_time,
               CAST(to_timestamp($event_time) AS DATE) AS partition_day,
               'web' AS action_source,
               CAST(json_object(
                   'event_name', 'checkout', 'action_source', 'web', 'event_time', $event_time,
                   'event_id', $prefix || i,
                   'user_data', json_object('em', [sha256('user' || i || '@example.com')]),
                   'custom_data', json_object('value', '27.5', 'currency', 'USD', 'order_id', 'o-' || i)
               ) AS VARCHAR) AS event_json
        FROM range($count) t(i)
        """,
        {"count": count, "event_time": event_time, "prefix": id_prefix},
    )
    bad = list(invalid_rows)
    if bad:
        con.execute(
            f"""UPDATE {table}
                SET event_json = left(event_json, length(event_json) - 1) || ',"category_name":"shoes"' || '}}'
                WHERE list_contains($rows, source_row)""",
            {"rows": bad},
        )


def target_for(api: FakePinterestApi, *, test_mode: bool = False, token: str | None = None, ad_account: str | None = None) -> PinterestTarget:
    return PinterestTarget(
        ad_account or api.ad_account_id, token or api.access_token, api_url=api.url, test_mode=test_mode
    )


def delivery_config(**values) -> PipelineConfig:
    return build_config(**values)


def ledger_rows(con: duckdb.DuckDBPyConnection, *, test: bool = False) -> dict[str, tuple[str, int, str | None]]:
    """event_id -> (status, attempts, last_error) for one mode."""
    return {
        event_id: (status, attempts, error)
        for event_id, status, attempts, error in con.execute(
            "SELECT event_id, status, attempts, last_error FROM delivery_ledger WHERE test = $test", {"test": test}
        ).fetchall()
    }


class RecordingLimiter(RollingWindowLimiter):
    """The limiter under test, remembering when it let each request start."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.started: list[float] = []

    async def acquire(self) -> None:
        await super().acquire()
        self.started.append(time.monotonic())
