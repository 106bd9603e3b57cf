"""The fake API in a background thread of the calling process, for tests, the demo and benchmarks."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from pinterest_pipeline.fake_api.faults import Faults
from pinterest_pipeline.fake_api.server import FakeApiSettings, FakeApiState, start_server
from pinterest_pipeline.fake_api.store import ReceivedEvent, ReceivedRequest

DEFAULT_ACCESS_TOKEN = "fake-access-token"
DEFAULT_AD_ACCOUNT_ID = "549755885175"


class FakePinterestApi:
    """A fake Pinterest events endpoint on 127.0.0.1, served from a thread with its own event loop.

    Example:
        >>> with FakePinterestApi(faults=Faults(rate_429=0.1)) as api:
        ...     target = PinterestTarget(api.ad_account_id, api.access_token, api_url=api.url)
        ...     deliver(con, "pinterest_events", target, config)
        ...     assert max(api.processed_counts().values()) == 1
    """

    def __init__(
        self,
        *,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        ad_account_id: str = DEFAULT_AD_ACCOUNT_ID,
        faults: Faults | None = None,
        max_event_age: timedelta = timedelta(days=7),
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        record_events: bool = True,
        other_accounts: dict[str, str] | None = None,
    ) -> None:
        """`other_accounts` (ad account id -> its token) are served besides `ad_account_id`."""
        settings = FakeApiSettings(
            access_token=access_token,
            ad_account_id=ad_account_id,
            max_event_age=max_event_age,
            seed=seed,
            record_events=record_events,
            faults=faults or Faults(),
            other_accounts=dict(other_accounts or {}),
        )
        self._state = FakeApiState(settings)
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner = None

    def __repr__(self) -> str:
        return f"FakePinterestApi(url={self.url!r}, ad_account_id={self.ad_account_id!r})"

    @property
    def access_token(self) -> str:
        return self._state.settings.access_token

    @property
    def ad_account_id(self) -> str:
        return self._state.settings.ad_account_id

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def faults(self) -> Faults:
        return self._state.faults

    def set_faults(self, **changes: Any) -> Faults:
        """Change fault settings from here on; e.g. `set_faults(rate_429=0, script=["503"])`."""
        faults = self._state.faults.updated(**changes)
        self._call_in_loop(self._state.set_faults, faults)
        return faults

    @property
    def received(self) -> list[ReceivedEvent]:
        return self._state.store.events

    @property
    def requests(self) -> list[ReceivedRequest]:
        return self._state.store.requests

    @property
    def events_read(self) -> int:
        return self._state.store.events_read

    def processed_counts(self, *, test: bool | None = None) -> Counter[tuple[str, str]]:
        return self._state.store.processed_counts(test=test)

    def clear(self) -> None:
        self._state.store.clear()

    def start(self) -> FakePinterestApi:
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._runner, self._port = loop.run_until_complete(start_server(self._state, self._host, self._port))
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-pinterest-api", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = self._thread = None

    def _call_in_loop(self, fn, *args) -> None:
        if self._loop is None:
            fn(*args)
            return
        done = threading.Event()

        def call() -> None:
            try:
                fn(*args)
            finally:
                done.set()

        self._loop.call_soon_threadsafe(call)
        done.wait(timeout=10)

    def __enter__(self) -> FakePinterestApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
