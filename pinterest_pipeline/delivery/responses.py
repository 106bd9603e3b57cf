"""Reading Pinterest's answers to one events request (docs/delivery.md).

200 is a `ConversionApiResponse` with one result per event, in request order. 422 is a
`DetailedError` whose `details` has that same shape: it is read per event too, never as a
whole-chunk failure, because the processed events in it must not be sent again. Every other status is
an error body `{code, message}` that applies to the whole request.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import orjson


class AnswerKind(enum.Enum):
    PER_EVENT = "per_event"  # 200, 422: read events[i]
    RETRY = "retry"  # 408, 425, 429, 5xx: the same body may succeed later
    INVALID = "invalid"  # 400, 413: something in the body is refused; bisect to find it
    AUTH = "auth"  # 401, 403: stop the run
    NOT_FOUND = "not_found"  # 404: wrong base URL or ad account
    UNEXPECTED = "unexpected"  # anything else: not retried within the run


def classify(status_code: int) -> AnswerKind:
    if status_code in (200, 422):
        return AnswerKind.PER_EVENT
    if status_code in (408, 425, 429) or status_code >= 500:
        return AnswerKind.RETRY
    if status_code in (400, 413):
        return AnswerKind.INVALID
    if status_code in (401, 403):
        return AnswerKind.AUTH
    if status_code == 404:
        return AnswerKind.NOT_FOUND
    return AnswerKind.UNEXPECTED


@dataclass(frozen=True)
class EventResult:
    """Pinterest's verdict on one event of a request."""

    processed: bool
    error_message: str | None = None
    warning_message: str | None = None


PROCESSED = EventResult(processed=True)


class UnreadableAnswer(ValueError):
    """A 200/422 body that does not give one result per event sent."""


def parse_body(content: bytes) -> Any:
    """The JSON body, or None when it is empty or not JSON (e.g. a proxy's HTML error page)."""
    try:
        return orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return None


def read_event_results(status_code: int, body: Any, events_sent: int) -> list[EventResult]:
    """One `EventResult` per event sent, in request order, from a 200 or 422 body."""
    container = body.get("details") if status_code == 422 and isinstance(body, dict) else body
    events = container.get("events") if isinstance(container, dict) else None
    if not isinstance(events, list) or len(events) != events_sent:
        found = len(events) if isinstance(events, list) else "no"
        raise UnreadableAnswer(f"HTTP {status_code} with {found} event results for {events_sent} events sent")
    results = []
    for item in events:
        status = item.get("status") if isinstance(item, dict) else None
        if status == "processed" and not item.get("warning_message"):
            results.append(PROCESSED)  # the common case, without building an object per event
        elif status in ("processed", "failed"):
            results.append(
                EventResult(
                    processed=status == "processed",
                    error_message=item.get("error_message")
                    or (None if status == "processed" else "failed without a message"),
                    warning_message=item.get("warning_message") or None,
                )
            )
        else:
            raise UnreadableAnswer(f"HTTP {status_code} with an event status of {status!r}")
    return results


def describe_error(status_code: int, body: Any) -> str:
    """`HTTP 400 (code 4196): Invalid request: ...` from an error body, whatever its shape."""
    if isinstance(body, dict) and "message" in body:
        code = f" (code {body['code']})" if "code" in body else ""
        detail = f" {body['message_detail']}" if body.get("message_detail") else ""
        return f"HTTP {status_code}{code}: {body['message']}{detail}"
    return f"HTTP {status_code}"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date; None if absent/bad.

    Fractional seconds are accepted although HTTP only defines integers: they cost nothing to honour.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max((moment - (now or datetime.now(timezone.utc))).total_seconds(), 0.0)
