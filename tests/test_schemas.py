"""The JSON schemas shipped in the package are Pinterest's official ones (tests/fixtures/pinterest-openapi), unchanged."""

from __future__ import annotations

import json

import pytest

from pinterest_pipeline.support.package_files import load_schema

from .conftest import OFFICIAL_SCHEMA_DIR

NAMES = ["conversion_events_request", "conversion_events_response", "conversion_events_error"]


@pytest.mark.parametrize("name", NAMES)
def test_packaged_schema_matches_the_official_copy(name):
    official = OFFICIAL_SCHEMA_DIR / f"{name}.schema.json"
    assert load_schema(name) == json.loads(official.read_text())


def test_request_schema_is_closed_and_bounded():
    """The properties our payload builder relies on: closed event objects and 1..1000 events."""
    schema = load_schema("conversion_events_request")
    assert schema["additionalProperties"] is False
    assert schema["properties"]["data"]["maxItems"] == 1000
    assert schema["properties"]["data"]["minItems"] == 1
