"""Shared fixtures: Pinterest's official request schema (a copy committed under tests/fixtures,
see its SOURCE.md), a private macro cache and a real PostgreSQL cluster."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

# Pinterest's official schemas, extracted from its OpenAPI description (SOURCE.md says how).
OFFICIAL_SCHEMA_DIR = Path(__file__).resolve().parent / "fixtures" / "pinterest-openapi"


@pytest.fixture(scope="session", autouse=True)
def _private_macro_cache(tmp_path_factory):
    """The suite writes its generated-macro cache in a directory of its own, not the user's."""
    import os

    from pinterest_pipeline.transform.normalize.macro_cache import CACHE_DIR_ENV

    previous = os.environ.get(CACHE_DIR_ENV)
    os.environ[CACHE_DIR_ENV] = str(tmp_path_factory.mktemp("macro-cache"))
    yield
    if previous is None:
        os.environ.pop(CACHE_DIR_ENV, None)
    else:
        os.environ[CACHE_DIR_ENV] = previous


@pytest.fixture(scope="session")
def request_schema() -> dict:
    return json.loads((OFFICIAL_SCHEMA_DIR / "conversion_events_request.schema.json").read_text())


@pytest.fixture(scope="session")
def request_validator(request_schema):
    """Validates a whole request body `{"data": [...]}`; use `validate_events` for a list of events."""
    import jsonschema

    return jsonschema.Draft202012Validator(request_schema)


@pytest.fixture(scope="session")
def validate_events(request_validator):
    """Assert that a list of event dicts, sent as one request, is valid per Pinterest's schema."""

    def check(events: list[dict]) -> None:
        for start in range(0, len(events), 1000):
            body = {"data": events[start : start + 1000]}
            errors = sorted(request_validator.iter_errors(body), key=lambda e: list(e.absolute_path))
            assert not errors, "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])

    return check


def _running_server(available, start):
    """Start a server for the session, or skip with the reason it cannot run here; stop it after."""
    reason = available()
    if reason:
        pytest.skip(reason)
    server = start()
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL 15 cluster for the whole run (see tests/servers/postgres.py)."""
    from tests.servers.postgres import postgres_available, start_postgres

    yield from _running_server(postgres_available, start_postgres)


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's cluster, one per test."""
    return postgres_server.create_database()


@pytest.fixture(params=["duckdb", "postgres"])
def store(request, tmp_path):
    """One session on each state store in turn: a DuckDB file, then a fresh PostgreSQL database."""
    from tests.state_fixtures import store_under_test

    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    under_test = store_under_test(request.param, tmp_path, url)
    yield under_test
    under_test.close()


@pytest.fixture(scope="session")
def redis_server():
    """One real Redis server for the whole run, no persistence (see tests/servers/redis.py)."""
    from tests.servers.redis import redis_available, start_redis

    yield from _running_server(redis_available, start_redis)
