"""A faithful local fake of Pinterest's events endpoint (docs/architecture.md), for tests, the demo and benchmarks.

`FakePinterestApi` runs it in a background thread; `pinterest-pipeline fake-api` serves it in the
foreground. Both record what they receive so duplicates and losses can be counted.
"""

from pinterest_pipeline.fake_api.embedded import DEFAULT_ACCESS_TOKEN, DEFAULT_AD_ACCOUNT_ID, FakePinterestApi
from pinterest_pipeline.fake_api.faults import Fault, Faults
from pinterest_pipeline.fake_api.server import FakeApiSettings, FakeApiState, build_app, start_server
from pinterest_pipeline.fake_api.store import ReceivedEvent, ReceivedRequest

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_AD_ACCOUNT_ID",
    "FakeApiSettings",
    "FakeApiState",
    "FakePinterestApi",
    "Fault",
    "Faults",
    "ReceivedEvent",
    "ReceivedRequest",
    "build_app",
    "start_server",
]
