"""A client-side limit on requests per rolling time window (docs/delivery.md).

Pinterest allows 5,000 requests per minute per ad account and 10 test requests per second. The
limiter remembers when each of the last `max_requests` requests started; a new one waits until the
oldest of them is a full window old, so no window of `window_seconds` (anywhere on the time line, not
only on minute boundaries) ever holds more than `max_requests` starts.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable


class RollingWindowLimiter:
    """At most `max_requests` acquisitions in any rolling window of `window_seconds`.

    `pause_for()` holds every caller back until a moment (a `Retry-After` from the server applies
    to the whole ad account, not just the request that got it). `clock` and `sleep` are injectable so
    tests can drive the limiter on virtual time.
    """

    def __init__(
        self,
        max_requests: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("a rate limit needs max_requests >= 1 and window_seconds > 0")
        self.max_requests = max_requests
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()  # waiters are served in arrival order
        self.waited_seconds = 0.0

    @classmethod
    def per_minute(cls, max_requests: int, **kwargs) -> RollingWindowLimiter:
        return cls(max_requests, 60.0, **kwargs)

    @classmethod
    def per_second(cls, max_requests: int, **kwargs) -> RollingWindowLimiter:
        return cls(max_requests, 1.0, **kwargs)

    def pause_for(self, seconds: float) -> None:
        """No acquisition completes in the next `seconds`."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _wait_needed(self, now: float) -> float:
        while self._starts and self._starts[0] <= now - self.window_seconds:
            self._starts.popleft()
        wait = self._paused_until - now
        if len(self._starts) >= self.max_requests:
            wait = max(wait, self._starts[0] + self.window_seconds - now)
        return max(wait, 0.0)

    async def acquire(self) -> None:
        """Wait until one more request may start, and count it as started now."""
        async with self._lock:
            while (wait := self._wait_needed(self._clock())) > 0:
                self.waited_seconds += wait
                await self._sleep(wait)
            self._starts.append(self._clock())
