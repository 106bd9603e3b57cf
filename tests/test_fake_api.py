"""The fake Pinterest API speaks Pinterest's contract: its answers validate against the official
response and error schemas, it refuses what the official request schema refuses, and its faults and
records behave as the delivery tests rely on."""

from __future__ import annotations

import json
import time

import httpx
import jsonschema
import orjson
import pytest

from pinterest_pipeline.fake_api import FakePinterestApi, Faults
from tests.conftest import OFFICIAL_SCHEMA_DIR

pytestmark = pytest.mark.timeout(60)


def _schema(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((OFFICIAL_SCHEMA_DIR / f"{name}.schema.json").read_text()))


RESPONSE_SCHEMA = _schema("conversion_events_response")
ERROR_SCHEMA = _schema("conversion_events_error")


def event(event_id: str = "e1", **overrides) -> dict:
    base = {
        "event_name": "checkout",
        "action_source": "web",
        "event_time": int(time.time()) - 60,
        "event_id": event_id,
        "user_data": {"em": ["b" * 64]},
    }
    return {**base, **overrides}


@pytest.fixture(scope="module")
def api():
    with FakePinterestApi() as fake:
        yield fake


@pytest.fixture
def client(api):
    api.set_faults(**Faults().as_dict())
    api.clear()
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {api.access_token}"}) as http:
        yield http


def post(client, api, body, *, account=None, params=None, headers=None) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post(f"/v5/ad_accounts/{account or api.ad_account_id}/events", content=content, params=params, headers=headers)


def test_processed_answer_matches_the_response_schema(client, api):
    response = post(client, api, {"data": [event("a"), event("b")]})
    assert response.status_code == 200
    RESPONSE_SCHEMA.validate(response.json())
    assert response.json() == {
        "num_events_received": 2,
        "num_events_processed": 2,
        "events": [{"status": "processed"}, {"status": "processed"}],
    }
    assert response.headers["x-pinterest-rid"]
    assert [(e.event_id, e.status, e.test) for e in api.received] == [("a", "processed", False), ("b", "processed", False)]


@pytest.mark.parametrize(
    ("event_time_offset", "message"),
    [(-8 * 86400, "is older than 7 days"), (3600, "is in the future")],
    ids=["too-old", "future"],
)
@pytest.mark.parametrize("partial_422", [False, True], ids=["200", "422"])
def test_per_event_failures(client, api, event_time_offset, message, partial_422):
    api.set_faults(partial_422=partial_422)
    bad_time = int(time.time()) + event_time_offset
    response = post(client, api, {"data": [event("ok"), event("bad", event_time=bad_time)]})
    body = response.json()
    if partial_422:
        assert response.status_code == 422
        ERROR_SCHEMA.validate(body)
        assert body["code"] == 953
        body = body["details"]
    else:
        assert response.status_code == 200
    RESPONSE_SCHEMA.validate(body)
    assert body["num_events_processed"] == 1 and body["events"][0] == {"status": "processed"}
    assert body["events"][1]["status"] == "failed" and message in body["events"][1]["error_message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "Invalid request: the body is not a JSON object"),
        ({"data": []}, "must contain at least 1 items"),
        ({"data": [event()], "extra": 1}, "must not contain {'extra'} properties"),
        ({"data": [event(category_name="shoes")]}, "data[0] must not contain {'category_name'} properties"),
        ({"data": [event("a"), event("b"), event("c", category_name="shoes")]}, "data[2] must not contain"),
        ({"data": [event(), event(event_time="yesterday")]}, "data[1].event_time must be integer"),
        ({"data": [event(user_data={"ph": ["a" * 64]})]}, "data[0].user_data cannot be validated by any definition"),
        ({"data": [{k: v for k, v in event().items() if k != "event_id"}]}, "data[0] must contain"),
        ({"data": [event(str(i)) for i in range(1001)]}, "must contain less than or equal to 1000 items"),
        ({"data": [event(custom_data={"value": 27.5})]}, "data[0].custom_data.value must be"),
    ],
    ids=["not-json", "empty", "top-level-key", "event-key", "later-event-key", "event-time-type", "identifier-rule",
         "missing-required", "over-1000", "value-not-string"],
)
def test_schema_violations_are_400_with_pinterest_shape(client, api, body, message):
    response = post(client, api, body)
    assert response.status_code == 400
    ERROR_SCHEMA.validate(response.json())
    assert response.json()["code"] == 4196 and message in response.json()["message"]
    assert api.received == []


@pytest.mark.parametrize(
    ("headers", "account", "status", "code"),
    [
        ({"Authorization": "Bearer wrong"}, None, 401, 2),
        ({"Authorization": ""}, None, 401, 2),
        (None, "123", 403, 29),
    ],
    ids=["wrong-token", "no-token", "other-ad-account"],
)
def test_auth_answers(client, api, headers, account, status, code):
    response = post(client, api, {"data": [event()]}, headers=headers, account=account)
    assert (response.status_code, response.json()["code"]) == (status, code)
    ERROR_SCHEMA.validate(response.json())
    assert response.headers["x-pinterest-rid"] and api.received == []


def test_test_flag_recorded(client, api):
    post(client, api, {"data": [event()]}, params={"test": "true"})
    post(client, api, {"data": [event()]})
    assert [e.test for e in api.received] == [True, False]
    assert [r.test for r in api.requests] == [True, False]


@pytest.mark.parametrize(
    ("script", "retry_after", "status", "header"),
    [(["429"], 2.0, 429, "2"), (["429"], None, 429, None), (["503"], None, 503, None)],
)
def test_injected_error_answers(client, api, script, retry_after, status, header):
    api.set_faults(script=script, retry_after=retry_after)
    response = post(client, api, {"data": [event()]})
    assert response.status_code == status and response.headers.get("retry-after") == header
    ERROR_SCHEMA.validate(response.json())
    assert post(client, api, {"data": [event()]}).status_code == 200  # the script is used up


@pytest.mark.parametrize(("fault", "recorded"), [("drop_before", 0), ("drop_after", 1)])
def test_dropped_connections(client, api, fault, recorded):
    api.set_faults(script=[fault])
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, api, {"data": [event()]})
    assert len(api.received) == recorded
    assert [r.outcome for r in api.requests] == [fault]


def test_control_endpoints(client, api):
    changed = client.post("/_control/faults", json={"fail_rate": 1.0, "partial_422": True})
    assert changed.status_code == 200 and changed.json()["fail_rate"] == 1.0
    assert post(client, api, {"data": [event("x")]}).status_code == 422
    received = client.get("/_control/received").json()
    assert [(e["event_id"], e["status"]) for e in received["events"]] == [("x", "failed")]
    assert received["requests"][0]["outcome"] == "422"
    refused = client.post("/_control/faults", json={"rate_429": 2})
    assert refused.status_code == 400 and "rate_429" in refused.json()["message"]
    assert client.post("/_control/faults", json={"nope": 1}).status_code == 400
    assert client.post("/_control/reset").status_code == 200 and api.received == []


def test_validation_sample_still_checks_envelope_and_keys(client, api):
    """With only a share of events checked in full (benchmarks), the envelope and the fields the fake
    reads are still checked on every event."""
    api.set_faults(validate_sample=0.0)
    assert post(client, api, {"data": [event(category_name="x")]}).status_code == 200
    missing_id = post(client, api, {"data": [{k: v for k, v in event().items() if k != "event_id"}]})
    assert missing_id.status_code == 400 and "event_id" in missing_id.json()["message"]
    assert post(client, api, {"data": [event()], "x": 1}).status_code == 400
