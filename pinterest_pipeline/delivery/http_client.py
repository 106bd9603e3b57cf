"""Posting one request body to the events endpoint, with retries (docs/delivery.md).

429, 5xx, timeouts and connection errors are retried with the same body (so the same event_ids),
after exponential backoff with jitter or the server's `Retry-After`, up to `max_attempts` attempts.
401/403 and 404 stop the run; every other answer is returned to the caller to read.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import Any

import httpx

from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.delivery.errors import AuthError, EndpointError
from pinterest_pipeline.delivery.rate_limit import RollingWindowLimiter
from pinterest_pipeline.delivery.responses import AnswerKind, classify, describe_error, parse_body, parse_retry_after
from pinterest_pipeline.delivery.target import TOKEN_ENV_VAR, PinterestTarget

logger = logging.getLogger("pinterest_pipeline.delivery")

REQUEST_ID_HEADER = "x-pinterest-rid"


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying one request.

    The wait before attempt n+1 is "equal jitter": half of `backoff_base * 2**(n-1)` (capped at
    `backoff_max`) plus a random share of the other half, so concurrent senders spread out while every
    wait stays at least half the nominal backoff. A `Retry-After` from the server replaces it,
    capped at `retry_after_max`.
    """

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 300.0

    @classmethod
    def from_config(cls, config: PipelineConfig, **overrides: Any) -> RetryPolicy:
        values = {
            "max_attempts": config.max_attempts,
            "backoff_base": config.retry_backoff_base,
            "backoff_max": config.retry_backoff_max,
        }
        values.update(overrides)
        return cls(**values)

    def backoff(self, failed_attempts: int, rng: random.Random) -> float:
        nominal = min(self.backoff_max, self.backoff_base * 2 ** (failed_attempts - 1))
        return nominal / 2 + rng.uniform(0, nominal / 2)


@dataclass
class Answer:
    """What became of one request body after all its attempts."""

    kind: AnswerKind
    status_code: int | None  # None when the last attempt got no HTTP answer at all
    body: Any
    request_id: str | None
    attempts: int
    error: str | None = None  # for the ledger when the answer is not a per-event one


@dataclass
class SendStats:
    requests: int = 0
    retries: int = 0
    failed_request_ids: list[str] = field(default_factory=list)


class ChunkSender:
    """Sends request bodies for one target over a shared keep-alive `httpx.AsyncClient`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        target: PinterestTarget,
        limiter: RollingWindowLimiter,
        policy: RetryPolicy,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._target = target
        self._limiter = limiter
        self._policy = policy
        self._rng = rng or random.Random()
        self._headers = target.request_headers()
        self.stats = SendStats()

    async def post(self, body: bytes) -> Answer:
        """Post `body` until it gets an answer that is not worth retrying, or attempts run out."""
        policy = self._policy
        for attempt in range(1, policy.max_attempts + 1):
            await self._limiter.acquire()
            self.stats.requests += 1
            retry_after = None
            try:
                response = await self._client.post(
                    self._target.events_url, content=body, params=self._target.query_params, headers=self._headers
                )
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                answer = Answer(AnswerKind.RETRY, None, None, None, attempt, self._transport_error(exc))
            else:
                answer = self._read(response, attempt)
                if answer.kind is not AnswerKind.RETRY:
                    return answer
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            if attempt == policy.max_attempts:
                answer.error = f"{answer.error} (gave up after {attempt} attempts)"
                logger.error("request to ad account %s failed: %s", self._target.ad_account_id, answer.error)
                return answer
            wait = (
                min(retry_after, policy.retry_after_max)
                if retry_after is not None
                else policy.backoff(attempt, self._rng)
            )
            if retry_after is not None:
                # A server's Retry-After speaks for the ad account, so every request in flight waits.
                self._limiter.pause_for(wait)
            logger.warning(
                "attempt %d of %d for ad account %s: %s; retrying in %.2fs",
                attempt,
                policy.max_attempts,
                self._target.ad_account_id,
                answer.error,
                wait,
            )
            self.stats.retries += 1
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the loop returns on the last attempt")

    def _read(self, response: httpx.Response, attempt: int) -> Answer:
        status = response.status_code
        request_id = response.headers.get(REQUEST_ID_HEADER)
        body = parse_body(response.content)
        kind = classify(status)
        error = None
        if kind is not AnswerKind.PER_EVENT:
            error = self._target.redact(describe_error(status, body))
            if request_id:
                error = f"{error} [x-pinterest-rid {request_id}]"
                self.stats.failed_request_ids.append(request_id)
            if kind is not AnswerKind.RETRY:
                logger.warning("ad account %s: %s", self._target.ad_account_id, error)
        if kind is AnswerKind.AUTH:
            raise AuthError(self._auth_message(status, error))
        if kind is AnswerKind.NOT_FOUND:
            raise EndpointError(
                f"{self._target.api_url} has no events endpoint for ad account {self._target.ad_account_id} ({error}): "
                "check the API URL (PINTEREST_API_URL) and the ad account id"
            )
        return Answer(kind, status, body, request_id, attempt, error)

    def _auth_message(self, status: int, error: str) -> str:
        account = self._target.ad_account_id
        if status == 401:
            return f"Pinterest refused the access token for ad account {account} ({error}): check {TOKEN_ENV_VAR}"
        return (
            f"the access token may not send events to ad account {account} ({error}): check that the ad account id "
            "is right and that the token's user owns it or has Admin, Analyst, Audience or Campaign access to it"
        )

    def _transport_error(self, exc: Exception) -> str:
        detail = self._target.redact(str(exc)) or "no detail"
        return f"{type(exc).__name__}: {detail}"
