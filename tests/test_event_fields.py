"""The table of the event's fields (`pinterest_pipeline.event_fields`) agrees with the three things
it names: Pinterest's request schema (the keys), the source contract (the columns) and the
normalization macros (one `pp_hash_<macro>` per hashed field), so a field added in one place and
not the others fails here rather than at Pinterest."""

from __future__ import annotations

import duckdb
import pytest

from pinterest_pipeline.config import build_config
from pinterest_pipeline.event_fields import (
    ACTION_SOURCES,
    APP_DEVICE_FIELDS,
    CLEAR_USER_FIELDS,
    CUSTOM_TEXT_FIELDS,
    HASHED_FIELDS,
    HASHED_USER_FIELDS,
    user_data_path,
)
from pinterest_pipeline.transform import install_transform_macros
from pinterest_pipeline.transform.contract import COLUMNS


@pytest.fixture(scope="module")
def event_schema(request_schema) -> dict:
    return request_schema["properties"]["data"]["items"]


def test_every_key_is_one_pinterest_accepts(event_schema):
    user_data = event_schema["properties"]["user_data"]["properties"]
    custom_data = event_schema["properties"]["custom_data"]["properties"]
    assert set(HASHED_USER_FIELDS) | set(CLEAR_USER_FIELDS) == set(user_data)
    assert set(APP_DEVICE_FIELDS) <= set(event_schema["properties"])
    assert set(CUSTOM_TEXT_FIELDS) <= set(custom_data)


def test_every_field_is_read_from_a_contract_column():
    columns = [field.column for field in HASHED_FIELDS] + [*CLEAR_USER_FIELDS, *APP_DEVICE_FIELDS, *CUSTOM_TEXT_FIELDS]
    assert [column for column in columns if column not in COLUMNS] == []
    assert len({field.key for field in HASHED_FIELDS}) == len(HASHED_FIELDS)


def test_every_hashed_field_has_its_macros():
    with duckdb.connect() as con:
        install_transform_macros(con)
        macros = {
            (name, len(parameters))
            for name, parameters in con.execute(
                "SELECT function_name, parameters FROM duckdb_functions() WHERE function_name LIKE 'pp_%'"
            ).fetchall()
        }
    for field in HASHED_FIELDS:
        arity = 2 if field.takes_region else 1
        assert (f"pp_hash_{field.macro}", arity) in macros
        assert (f"pp_normalize_{field.macro}", arity) in macros


def test_the_config_accepts_exactly_the_action_sources():
    assert [build_config(default_action_source=source).default_action_source for source in ACTION_SOURCES] == list(
        ACTION_SOURCES
    )


@pytest.mark.parametrize(
    ("field", "path"), [("em", "$.user_data.em"), ("hashed_maids", "$.user_data.hashed_maids"),
                        ("client_ip_address", "$.user_data.client_ip_address")]
)
def test_user_data_path(field, path):
    assert user_data_path(field) == path


def test_user_data_path_refuses_other_names():
    with pytest.raises(ValueError, match="not a user_data field: 'value'"):
        user_data_path("value")
