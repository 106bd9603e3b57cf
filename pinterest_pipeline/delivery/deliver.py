"""Sending an events table to one ad account, exactly once per event (docs/delivery.md).

The orchestration: stage the events in the ledger, stream the unsettled ones from DuckDB in chunks,
and keep `concurrency` requests in flight on one keep-alive HTTP client. Each chunk is marked
`in_flight` (committed) before its request goes out, and its answer is recorded per event as soon as
it is read. DuckDB work runs on one thread of its own, so the event loop keeps reading answers while
the ledger is written.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import duckdb
import httpx

from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.delivery.bisection import isolate_invalid
from pinterest_pipeline.delivery.chunks import EventChunk
from pinterest_pipeline.delivery.errors import AuthError
from pinterest_pipeline.delivery.http_client import Answer, ChunkSender, RetryPolicy
from pinterest_pipeline.delivery.ledger import LedgerScope, Status
from pinterest_pipeline.delivery.ledger_store import DuckDBLedger, LedgerStore
from pinterest_pipeline.delivery.rate_limit import RollingWindowLimiter
from pinterest_pipeline.delivery.responses import AnswerKind, UnreadableAnswer, read_event_results
from pinterest_pipeline.delivery.target import PinterestTarget
from pinterest_pipeline.errors import PipelineError

logger = logging.getLogger("pinterest_pipeline.delivery")

ProgressCallback = Callable[[int, int], None]
"""Called with (events settled so far, events to send) as answers are recorded."""

T = TypeVar("T")


@dataclass
class DeliveryReport:
    """What one `deliver` run did. Counts are events unless named otherwise."""

    events_considered: int = 0  # events of the selected days in the events table
    already_settled: int = 0  # skipped: delivered, failed or rejected by an earlier run
    sent: int = 0  # events put in at least one request by this run
    delivered: int = 0
    failed: int = 0  # refused per event by Pinterest (200/422); re-sent only with resend_failed
    failed_retryable: int = 0  # no answer after every attempt; the next run re-sends them
    rejected: int = 0  # isolated by 400 bisection
    warnings: int = 0  # events processed with a warning_message
    requests: int = 0  # HTTP requests, retries and bisection included
    retries: int = 0
    duration_s: float = 0.0
    unsettled: int = 0  # after the run: pending, in flight or failed_retryable (re-run to finish)
    warning_messages: dict[str, int] = field(default_factory=dict)
    connection_error: str | None = None  # the last request that got no HTTP answer at all, if any

    @property
    def reached_api(self) -> int:
        """Events of this run Pinterest answered for (delivered, failed or rejected)."""
        return self.delivered + self.failed + self.rejected

    @property
    def complete(self) -> bool:
        """Nothing is left to retry: every event is delivered, failed or rejected."""
        return self.unsettled == 0


def deliver(
    con: duckdb.DuckDBPyConnection,
    events_table: str,
    target: PinterestTarget,
    config: PipelineConfig,
    *,
    partition_days: Iterable[date] | None = None,
    resend_failed: bool = False,
    progress: ProgressCallback | None = None,
    retry_policy: RetryPolicy | None = None,
    rate_limiter: RollingWindowLimiter | None = None,
    ledger_store: LedgerStore | None = None,
) -> DeliveryReport:
    """Send the unsettled events of `events_table` to `target`, recording every outcome in the ledger.

    Args:
        con: the DuckDB connection holding `events_table`; without `ledger_store`, also the ledger
            (`delivery_ledger`, created there if needed).
        events_table: a table with `source_row`, `event_id`, `event_name`, `partition_day`, `event_json`.
        target: the ad account, token, API URL and mode (test requests are ledgered apart).
        config: chunk size, concurrency, rate limits, attempts, timeouts.
        partition_days: only events of these days; None for all.
        resend_failed: also re-send events Pinterest refused per event (after the data was fixed).
        progress: see `ProgressCallback`.
        retry_policy: overrides the policy built from `config` (tests use short backoffs).
        rate_limiter: overrides the limiter built from `config`.
        ledger_store: where the ledger lives (a state's `deliver` passes its own); closed when the run ends.

    Raises:
        AuthError: Pinterest answered 401/403; the run stops at once.
        EndpointError: the API answered 404.
        InputError: the events table repeats an (event_id, event_name).
    """
    scope = LedgerScope(
        target.ad_account_id, target.test_mode, tuple(partition_days) if partition_days is not None else None
    )
    run = _DeliveryRun(
        ledger_store or DuckDBLedger(con),
        events_table,
        target,
        config,
        scope,
        resend_failed=resend_failed,
        progress=progress,
        policy=retry_policy or RetryPolicy.from_config(config),
        limiter=rate_limiter or _limiter_for(target, config),
    )
    return _run_coroutine_blocking(run.run())


def _limiter_for(target: PinterestTarget, config: PipelineConfig) -> RollingWindowLimiter:
    if target.test_mode:
        return RollingWindowLimiter.per_second(config.test_requests_per_second)
    return RollingWindowLimiter.per_minute(config.requests_per_minute)


def _run_coroutine_blocking(coroutine: Any) -> Any:
    """`asyncio.run`, also from a thread whose event loop is already running (e.g. a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="pinterest-delivery")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class _DeliveryRun:
    def __init__(
        self,
        ledger_store: LedgerStore,
        events_table: str,
        target: PinterestTarget,
        config: PipelineConfig,
        scope: LedgerScope,
        *,
        resend_failed: bool,
        progress: ProgressCallback | None,
        policy: RetryPolicy,
        limiter: RollingWindowLimiter,
    ) -> None:
        self.ledger = ledger_store
        self.events_table = events_table
        self.target = target
        self.config = config
        self.scope = scope
        self.resend_failed = resend_failed
        self.progress = progress
        self.policy = policy
        self.limiter = limiter
        self.report = DeliveryReport()
        self._warnings: Counter[str] = Counter()
        self._settled_events = 0
        self._to_send = 0
        # One thread owns every ledger call of the run: its connections are not used concurrently,
        # and the event loop never blocks on a ledger write.
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="delivery-ledger")

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, functools.partial(fn, *args, **kwargs))

    async def run(self) -> DeliveryReport:
        started = time.monotonic()
        try:
            try:
                await self._run()
            finally:
                self._db_thread.shutdown(wait=True)  # writes already submitted still commit
                self.report.duration_s = round(time.monotonic() - started, 3)
                self.report.warning_messages = dict(self._warnings)
            self.report.unsettled = self.ledger.count_unsettled(self.events_table, self.scope)
        finally:
            self.ledger.close()
        return self.report

    async def _run(self) -> None:
        staging = await self._db(self.ledger.stage, self.events_table, self.scope, resend_failed=self.resend_failed)
        self.report.events_considered = staging.events_considered
        self.report.already_settled = staging.already_settled
        self._to_send = staging.to_send
        if not staging.to_send:
            return
        chunks = await self._db(
            self.ledger.stream_chunks,
            self.events_table,
            self.scope,
            resend_failed=self.resend_failed,
            chunk_size=self.config.chunk_size,
        )
        limits = httpx.Limits(
            max_connections=self.config.concurrency, max_keepalive_connections=self.config.concurrency
        )
        timeout = httpx.Timeout(self.config.request_timeout)
        try:
            async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
                self.sender = ChunkSender(client, self.target, self.limiter, self.policy)
                try:
                    await self._send_all(chunks)
                finally:
                    self.report.requests = self.sender.stats.requests
                    self.report.retries = self.sender.stats.retries
        except BaseExceptionGroup as group:
            # A stop (401/403, 404) in one request cancels the others; surface it as itself.
            stop = next((exc for exc in group.exceptions if isinstance(exc, PipelineError)), None)
            if stop is None:
                raise
            raise stop from None
        finally:
            await self._db(chunks.close)  # closes the reading cursor on the thread that opened it

    async def _send_all(self, chunks: Iterator[EventChunk]) -> None:
        slots = asyncio.Semaphore(self.config.concurrency)
        async with asyncio.TaskGroup() as requests:
            # The next chunk is read and marked in_flight while the current requests are out, so a
            # freed slot is refilled at once. A chunk marked but not yet sent when the process dies
            # is sent by the next run: it was never sent, so this makes no duplicate.
            next_chunk = asyncio.ensure_future(self._db(self._read_next_in_flight, chunks))
            while (chunk := await next_chunk) is not None:
                await slots.acquire()
                self.report.sent += len(chunk)
                next_chunk = asyncio.ensure_future(self._db(self._read_next_in_flight, chunks))
                requests.create_task(self._send_chunk(chunk, slots))

    def _read_next_in_flight(self, chunks: Iterator[EventChunk]) -> EventChunk | None:
        """On the DuckDB thread: the next chunk, committed `in_flight` before anything sends it."""
        chunk = next(chunks, None)
        if chunk is not None:
            self.ledger.mark_in_flight(chunk.seqs)
        return chunk

    async def _send_chunk(self, chunk: EventChunk, slots: asyncio.Semaphore) -> None:
        released = False
        try:
            try:
                answer = await self._post(chunk)
            except AuthError as exc:
                # Refused before processing: these events never reached Pinterest.
                await self._record(chunk, [Status.PENDING] * len(chunk), [str(exc)] * len(chunk), None, None, 0)
                raise
            if answer.kind is AnswerKind.PER_EVENT:
                # Nothing more to send for this chunk: the next request goes out while this answer
                # is recorded. The ledger thread records answers and reads the next chunk in turn,
                # so answers waiting to be recorded never pile up beyond a few.
                slots.release()
                released = True
            await self._settle(chunk, answer, counted_attempts=1)
        finally:
            if not released:
                slots.release()

    async def _post(self, chunk: EventChunk) -> Answer:
        return await self.sender.post(chunk.body())

    async def _settle(self, chunk: EventChunk, answer: Answer, counted_attempts: int = 0) -> None:
        """Record `answer` for `chunk`. `counted_attempts`: attempts already counted in the ledger."""
        extra_attempts = answer.attempts - counted_attempts
        if answer.kind is AnswerKind.PER_EVENT:
            try:
                results = read_event_results(answer.status_code, answer.body, len(chunk))
            except UnreadableAnswer as exc:
                # Pinterest may have processed these events; like a lost answer, they are re-sent next run.
                await self._record_all(
                    chunk, Status.FAILED_RETRYABLE, f"unreadable answer: {exc}", answer, extra_attempts
                )
                return
            statuses = [Status.DELIVERED if result.processed else Status.FAILED for result in results]
            errors = [self.target.redact(result.error_message) if not result.processed else None for result in results]
            warnings = [result.warning_message for result in results]
            await self._record(chunk, statuses, errors, warnings, answer.request_id, extra_attempts)
            failed = statuses.count(Status.FAILED)
            if failed:
                logger.warning(
                    "%d of %d events failed at Pinterest for ad account %s (x-pinterest-rid %s): %s",
                    failed,
                    len(chunk),
                    self.target.ad_account_id,
                    answer.request_id,
                    next(error for error in errors if error),
                )
        elif answer.kind is AnswerKind.INVALID:
            await isolate_invalid(chunk, answer, post=self._post, settle=self._settle, reject=self._reject)
        else:
            if answer.status_code is None:
                self.report.connection_error = answer.error
            await self._record_all(chunk, Status.FAILED_RETRYABLE, answer.error, answer, extra_attempts)

    async def _reject(self, chunk: EventChunk, refusal: Answer) -> None:
        await self._record_all(chunk, Status.REJECTED, refusal.error, refusal, refusal.attempts)

    async def _record_all(
        self, chunk: EventChunk, status: Status, error: str | None, answer: Answer, extra_attempts: int
    ) -> None:
        await self._record(chunk, [status] * len(chunk), [error] * len(chunk), None, answer.request_id, extra_attempts)

    async def _record(
        self,
        chunk: EventChunk,
        statuses: list[Status],
        errors: list[str | None],
        warnings: list[str | None] | None,
        request_id: str | None,
        extra_attempts: int,
    ) -> None:
        warnings = warnings or [None] * len(chunk)
        await self._db(
            self.ledger.record_outcomes,
            chunk.seqs,
            statuses,
            errors,
            warnings,
            request_id=request_id,
            extra_attempts=extra_attempts,
        )
        counts = Counter(statuses)
        self.report.delivered += counts[Status.DELIVERED]
        self.report.failed += counts[Status.FAILED]
        self.report.failed_retryable += counts[Status.FAILED_RETRYABLE]
        self.report.rejected += counts[Status.REJECTED]
        for warning in warnings:
            if warning:
                self.report.warnings += 1
                self._warnings[warning] += 1
        self._settled_events += len(chunk) - counts[Status.PENDING]
        if self.progress is not None:
            self.progress(self._settled_events, self._to_send)
