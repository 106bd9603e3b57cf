"""What the fake API received: every request and every event of a request it read."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import NamedTuple


class ReceivedEvent(NamedTuple):
    """One event of a request the fake read; `status` is what it answered for the event."""

    ad_account_id: str
    event_id: str
    event_name: str
    test: bool
    request_id: str
    status: str  # "processed" or "failed"


@dataclass(frozen=True)
class ReceivedRequest:
    """One request, whatever became of it. `outcome` is the status code sent, or how it ended."""

    request_id: str
    arrived_at: float  # time.monotonic() on arrival, for rate and backoff checks
    ad_account_id: str
    test: bool
    events: int  # 0 when the body was not read as events
    first_event_id: str | None
    outcome: str  # "200", "422", "400", "401", "403", "429", "503", "drop_before", "drop_after", "client_gone"


class ReceivedStore:
    """Thread-safe log of requests and events; the server appends, tests read snapshots."""

    def __init__(self, *, record_events: bool = True) -> None:
        self.record_events = record_events
        self._lock = threading.Lock()
        # Events are kept as plain tuples of ReceivedEvent's fields: the garbage collector stops
        # tracking a tuple of strings and booleans, but not a named tuple, and a few hundred
        # thousand tracked records made each request's collections several times slower.
        self._events: list[tuple] = []
        self._requests: list[ReceivedRequest] = []
        self.events_read = 0  # counted even when events are not recorded one by one

    def add_request(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def add_events(self, events: list[tuple]) -> None:
        """Record `events`, each a plain tuple of the fields of `ReceivedEvent`, in their order."""
        with self._lock:
            self.events_read += len(events)
            if self.record_events:
                self._events.extend(events)

    @property
    def events(self) -> list[ReceivedEvent]:
        with self._lock:
            return [ReceivedEvent._make(event) for event in self._events]

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def processed_counts(self, *, test: bool | None = None) -> Counter[tuple[str, str]]:
        """How many times each (event_id, event_name) was processed: duplicates have counts above 1."""
        return Counter(
            (event.event_id, event.event_name)
            for event in self.events
            if event.status == "processed" and (test is None or event.test == test)
        )

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
            self._requests.clear()
            self.events_read = 0

    def as_json(self) -> dict:
        with self._lock:
            return {
                "events": [dict(zip(ReceivedEvent._fields, event)) for event in self._events],
                "requests": [asdict(request) for request in self._requests],
            }
