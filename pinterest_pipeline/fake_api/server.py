"""The fake events endpoint as an aiohttp application (docs/delivery.md says what it answers).

`POST /v5/ad_accounts/{ad_account_id}/events` behaves like Pinterest's: bearer token (401, code 2),
ad account (403, code 29), body against the official schema (400, code 4196), per-event statuses in
request order (events too old or in the future fail one by one), 422 `DetailedError` in partial mode,
an `x-pinterest-rid` on every answer. Faults are injected on top. The control endpoints under
`/_control/` change the faults and expose what was received.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import orjson
from aiohttp import web

from pinterest_pipeline.fake_api.faults import Fault, FaultDraw, Faults
from pinterest_pipeline.fake_api.store import ReceivedRequest, ReceivedStore
from pinterest_pipeline.fake_api.validation import InvalidRequest, decode_request
from pinterest_pipeline.taxonomy import PINTEREST_EVENT_NAMES

REQUEST_ID_HEADER = "x-pinterest-rid"
_PROCESSED = {"status": "processed"}  # shared by every processed event's result; never mutated
EVENTS_PATH = "/v5/ad_accounts/{ad_account_id}/events"


@dataclass
class FakeApiSettings:
    access_token: str
    ad_account_id: str
    max_event_age: timedelta = timedelta(days=7)
    max_future_skew: timedelta = timedelta(minutes=5)
    clock: Callable[[], float] = time.time  # wall clock for the event_time rules
    seed: int | None = None
    record_events: bool = True
    faults: Faults = field(default_factory=Faults)
    # More ad accounts the fake serves, each with its own token: ad account id -> token.
    other_accounts: dict[str, str] = field(default_factory=dict)

    def token_of(self, ad_account_id: str) -> str | None:
        if ad_account_id == self.ad_account_id:
            return self.access_token
        return self.other_accounts.get(ad_account_id)


class FakeApiState:
    """Everything the handlers share: settings, the fault draw and the received store."""

    def __init__(self, settings: FakeApiSettings) -> None:
        self.settings = settings
        self.draw = FaultDraw(settings.faults, seed=settings.seed)
        self.store = ReceivedStore(record_events=settings.record_events)
        self._request_numbers = itertools.count(1)
        self._run_id = uuid.uuid4().hex[:12]

    @property
    def faults(self) -> Faults:
        return self.draw.faults

    def set_faults(self, faults: Faults) -> None:
        self.draw.replace_faults(faults)

    def next_request_id(self) -> str:
        return f"{self._run_id}-{next(self._request_numbers):08d}"


def _json(status: int, body: dict, request_id: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(body),
        content_type="application/json",
        headers={REQUEST_ID_HEADER: request_id, **(headers or {})},
    )


def _drop_connection(request: web.Request) -> web.Response:
    """Close the connection without an answer; the returned response is never written."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=499)


class EventsHandler:
    def __init__(self, state: FakeApiState) -> None:
        self.state = state

    async def handle(self, request: web.Request) -> web.Response:
        state, settings = self.state, self.state.settings
        request_id = state.next_request_id()
        arrived_at = time.monotonic()
        ad_account_id = request.match_info["ad_account_id"]
        test = request.query.get("test", "").lower() == "true"
        body = await request.read()
        faults = state.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)

        def log(outcome: str, events: int = 0, first_event_id: str | None = None) -> None:
            state.store.add_request(
                ReceivedRequest(request_id, arrived_at, ad_account_id, test, events, first_event_id, outcome)
            )

        if request.transport is None or request.transport.is_closing():
            # The client gave up (e.g. timed out) before the request was processed: drop it.
            log("client_gone")
            return web.Response(status=499)
        authorization = request.headers.get("Authorization", "")
        # A token the fake knows for no account is refused (401); a known token used for another
        # account than its own is not permitted there (403), as at Pinterest.
        tokens = [settings.access_token, *settings.other_accounts.values()]
        if not any(hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()) for token in tokens):
            log("401")
            return _json(401, {"code": 2, "message": "Authentication failed."}, request_id)
        expected = settings.token_of(ad_account_id)
        if expected is None or not hmac.compare_digest(authorization.encode(), f"Bearer {expected}".encode()):
            log("403")
            return _json(403, {"code": 29, "message": "You are not permitted to access that resource."}, request_id)

        fault = state.draw.next_request()
        if fault is Fault.RATE_LIMITED:
            log("429")
            headers = {"Retry-After": f"{faults.retry_after:g}"} if faults.retry_after is not None else None
            body = {"code": 8, "message": "You have exceeded your rate limit. Try again later."}
            return _json(429, body, request_id, headers)
        if fault is Fault.SERVER_ERROR:
            log("503")
            body = {"code": 4197, "message": "Endpoint is ramped down and is not accepting any traffic."}
            return _json(503, body, request_id)
        if fault is Fault.DROP_BEFORE:
            log("drop_before")
            return _drop_connection(request)

        try:
            decoded = decode_request(body, state.draw.validates_event)
        except InvalidRequest as error:
            log("400")
            return _json(400, {"code": 4196, "message": str(error)}, request_id)

        results, received = self._judge(decoded.events, ad_account_id, test, request_id)
        state.store.add_events(received)
        first_event_id = decoded.events[0].event_id
        if fault is Fault.DROP_AFTER:
            log("drop_after", len(received), first_event_id)
            return _drop_connection(request)
        processed = sum(1 for result in results if result["status"] == "processed")
        answer = {"num_events_received": len(results), "num_events_processed": processed, "events": results}
        if faults.partial_422 and processed < len(results):
            log("422", len(received), first_event_id)
            detailed = {"code": 953, "message": "Not all events were successfully processed.", "details": answer}
            return _json(422, detailed, request_id)
        log("200", len(received), first_event_id)
        return _json(200, answer, request_id)

    def _judge(self, events, ad_account_id: str, test: bool, request_id: str) -> tuple[list[dict], list[tuple]]:
        """Per-event results in request order, and the records of what was received (as the store
        keeps them: plain tuples of `ReceivedEvent`'s fields)."""
        settings, draw = self.state.settings, self.state.draw
        now = settings.clock()
        oldest = now - settings.max_event_age.total_seconds()
        latest = now + settings.max_future_skew.total_seconds()
        age_days = settings.max_event_age.total_seconds() / 86400
        may_fail = draw.faults.fail_rate > 0
        if not may_fail and all(
            oldest <= event.event_time <= latest and event.event_name in PINTEREST_EVENT_NAMES for event in events
        ):
            # The usual request, every event processed as it is: one result shared by all.
            received = [
                (ad_account_id, event.event_id, event.event_name, test, request_id, "processed") for event in events
            ]
            return [_PROCESSED] * len(events), received
        results, received = [], []
        for event in events:
            if event.event_time < oldest:
                message = f"Event timestamp {event.event_time} is older than {age_days:g} days."
                result = {"status": "failed", "error_message": message}
            elif event.event_time > latest:
                result = {"status": "failed", "error_message": f"Event timestamp {event.event_time} is in the future."}
            elif may_fail and draw.event_fails():
                result = {"status": "failed", "error_message": "Event could not be processed (injected failure)."}
            elif event.event_name not in PINTEREST_EVENT_NAMES:
                warning = f"event_name '{event.event_name}' is not a standard event."
                result = {"status": "processed", "warning_message": warning}
            else:
                result = _PROCESSED
            results.append(result)
            received.append((ad_account_id, event.event_id, event.event_name, test, request_id, result["status"]))
        return results, received


class ControlHandlers:
    """`GET/POST /_control/faults`, `GET /_control/received`, `POST /_control/reset`."""

    def __init__(self, state: FakeApiState) -> None:
        self.state = state

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.faults.as_dict())

    async def post_faults(self, request: web.Request) -> web.Response:
        try:
            changes = orjson.loads(await request.read())
            if not isinstance(changes, dict):
                raise ValueError("expected a JSON object of fault settings")
            self.state.set_faults(self.state.faults.updated(**changes))
        except (ValueError, TypeError) as error:
            return web.json_response({"message": str(error)}, status=400)
        return web.json_response(self.state.faults.as_dict())

    async def get_received(self, request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(self.state.store.as_json()), content_type="application/json")

    async def reset(self, request: web.Request) -> web.Response:
        self.state.store.clear()
        return web.json_response({"cleared": True})


def build_app(state: FakeApiState) -> web.Application:
    # Bodies of 1000 events are about 1 MB; allow the largest Pinterest would take and some.
    app = web.Application(client_max_size=32 * 1024 * 1024)
    control = ControlHandlers(state)
    app.router.add_post(EVENTS_PATH, EventsHandler(state).handle)
    app.router.add_get("/_control/faults", control.get_faults)
    app.router.add_post("/_control/faults", control.post_faults)
    app.router.add_get("/_control/received", control.get_received)
    app.router.add_post("/_control/reset", control.reset)
    return app


async def start_server(state: FakeApiState, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, int]:
    """Start serving `state` on host:port (0: any free port); returns the runner and the bound port."""
    # handler_cancellation=False: a handler runs to its end even if the client went away, so the
    # "client gone before processing" check and the drop-after-processing fault behave as designed.
    runner = web.AppRunner(build_app(state), handler_cancellation=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    return runner, bound_port
