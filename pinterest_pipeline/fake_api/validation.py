"""Reading a request body the way the real endpoint does: against Pinterest's official JSON schema.

A well-formed body is read in one msgspec pass that keeps only the fields the fake needs from each
event, so the fake keeps up with a fast sender; a body that fails it is read again step by step to
name its first problem. Events are checked against the schema's event definition compiled with
fastjsonschema, taken as `Raw` slices of the body; `validate_sample` below 1 checks only a random
share of events in full (for throughput benchmarks), while every event's envelope and the fields
the fake itself reads are always checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import fastjsonschema
import msgspec
import orjson

from pinterest_pipeline.support.package_files import load_schema


class InvalidRequest(ValueError):
    """The body breaks the request schema; the message follows Pinterest's `Invalid request: ...`."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Invalid request: {detail}")


class EventKeys(msgspec.Struct, gc=False):
    """The fields of an event the fake needs for its own rules and records (atoms only, so the
    garbage collector need not track the thousand of them in each request)."""

    event_id: str
    event_name: str
    event_time: int


class _KeysBody(msgspec.Struct, forbid_unknown_fields=True):
    data: list[EventKeys]


class _RawBody(msgspec.Struct):
    data: list[msgspec.Raw]


_KEYS_BODY = msgspec.json.Decoder(_KeysBody)
_RAW_BODY = msgspec.json.Decoder(_RawBody)
_ENVELOPE = msgspec.json.Decoder(dict[str, msgspec.Raw])
_EVENT_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_EVENT_KEYS = msgspec.json.Decoder(EventKeys)


@cache
def _compiled_validators() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(envelope validator, event validator), both from the official request schema."""
    schema = load_schema("conversion_events_request")
    data_schema = schema["properties"]["data"]
    event_schema = data_schema["items"]
    # The envelope keeps every rule of the official top level (closed object, `data` required,
    # 1 to 1000 items) except the per-item one, which the event validator applies item by item.
    envelope_schema = {
        **schema,
        "properties": {**schema["properties"], "data": {k: v for k, v in data_schema.items() if k != "items"}},
    }
    return fastjsonschema.compile(envelope_schema), fastjsonschema.compile(event_schema)


def _schema_message(error: fastjsonschema.JsonSchemaValueException, path: str) -> str:
    # fastjsonschema names the validated value `data`; name it by its place in the body instead.
    return error.message.replace("data", path, 1)


@dataclass(frozen=True)
class DecodedRequest:
    events: list[EventKeys]


def decode_request(body: bytes, validates_event: Callable[[], bool]) -> DecodedRequest:
    """The events of a request body, in order; `InvalidRequest` when the body breaks the schema."""
    envelope_validator, event_validator = _compiled_validators()
    try:
        events = _KEYS_BODY.decode(body).data
    except msgspec.DecodeError:
        # Not a `{"data": [...]}` whose events all carry their keys: the step-by-step reading
        # finds the first problem and words it as Pinterest does.
        return _decode_step_by_step(body, validates_event)
    _check(envelope_validator, {"data": [None] * len(events)}, "body")
    sampled = [index for index in range(len(events)) if validates_event()]
    if sampled:
        raw_events = _RAW_BODY.decode(body).data
        for index in sampled:
            _check(event_validator, orjson.loads(memoryview(raw_events[index])), f"data[{index}]")
    return DecodedRequest(events)


def _check(validator: Callable[[Any], Any], value: Any, path: str) -> None:
    try:
        validator(value)
    except fastjsonschema.JsonSchemaValueException as error:
        raise InvalidRequest(_schema_message(error, path)) from None


def _decode_step_by_step(body: bytes, validates_event: Callable[[], bool]) -> DecodedRequest:
    """`decode_request` one piece at a time, in the order the problems are reported."""
    envelope_validator, event_validator = _compiled_validators()
    try:
        envelope = _ENVELOPE.decode(body)
    except msgspec.DecodeError:
        raise InvalidRequest("the body is not a JSON object") from None
    try:
        raw_events = _EVENT_LIST.decode(envelope["data"]) if "data" in envelope else None
    except msgspec.DecodeError:
        raw_events = None
    shell = {
        key: orjson.loads(memoryview(value)) for key, value in envelope.items() if key != "data" or raw_events is None
    }
    if raw_events is not None:
        shell["data"] = [None] * len(raw_events)
    _check(envelope_validator, shell, "body")
    events = []
    for index, raw in enumerate(raw_events):
        if validates_event():
            _check(event_validator, orjson.loads(memoryview(raw)), f"data[{index}]")
        try:
            events.append(_EVENT_KEYS.decode(raw))
        except msgspec.ValidationError as error:
            raise InvalidRequest(f"data[{index}]: {error}") from None
    return DecodedRequest(events)
