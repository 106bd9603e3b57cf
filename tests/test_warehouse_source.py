"""The warehouse source's parts that are plain rules: placeholder rewriting that leaves literals
and comments alone, `${NAME}` expansion that cannot break out of a literal, URIs shown without
credentials, and a source config that names the bad key."""

from __future__ import annotations

import pytest

from pinterest_pipeline.config import ConfigError
from pinterest_pipeline.warehouse import WarehouseSource
from pinterest_pipeline.warehouse.sql_text import (
    UnsetVariable,
    expand_environment,
    rewrite_window_placeholders,
    window_parameters_used,
)
from pinterest_pipeline.warehouse.uri_display import display_uri, redact, secrets_in_uri


@pytest.mark.parametrize(
    ("sql", "numbered", "qmark", "order"),
    [
        ("t >= $window_start AND t < $window_end", "t >= $1 AND t < $2", "t >= ? AND t < ?",
         ["window_start", "window_end"]),
        # numbered placeholders follow first use; ? placeholders every use
        ("t < $window_end AND t >= $window_start OR t = $window_end", "t < $1 AND t >= $2 OR t = $1",
         "t < ? AND t >= ? OR t = ?", ["window_end", "window_start"]),
        ("x = '$window_start' -- $window_end\n AND t >= $window_start",
         "x = '$window_start' -- $window_end\n AND t >= $1", "x = '$window_start' -- $window_end\n AND t >= ?",
         ["window_start"]),
        ("/* $window_start\n */ \"$window_end\" = `$window_end` AND t < $window_end",
         "/* $window_start\n */ \"$window_end\" = `$window_end` AND t < $1",
         "/* $window_start\n */ \"$window_end\" = `$window_end` AND t < ?", ["window_end"]),
        ("$$ $window_start $$ || $q$ it's $window_end $q$ || E'\\' $window_end' || 'it''s $window_end' || $window_start",
         "$$ $window_start $$ || $q$ it's $window_end $q$ || E'\\' $window_end' || 'it''s $window_end' || $1",
         "$$ $window_start $$ || $q$ it's $window_end $q$ || E'\\' $window_end' || 'it''s $window_end' || ?",
         ["window_start"]),
        ("$window_start_local, $window_ends, $1", "$window_start_local, $window_ends, $1",
         "$window_start_local, $window_ends, $1", []),
    ],
)
def test_window_placeholders_are_rewritten_only_in_the_sql_itself(sql, numbered, qmark, order):
    assert rewrite_window_placeholders(sql, "numbered")[0] == numbered
    assert rewrite_window_placeholders(sql, "qmark")[0] == qmark
    assert window_parameters_used(sql) == order
    assert rewrite_window_placeholders(sql, "numbered")[1] == order


@pytest.mark.parametrize(
    ("statement", "expanded"),
    [
        ("CREATE OR REPLACE SECRET (TYPE s3, KEY_ID ${KEY}, SECRET ${SECRET})",
         "CREATE OR REPLACE SECRET (TYPE s3, KEY_ID 'AKIA', SECRET 'x'' OR 1=1 --')"),
        ("SET s3_endpoint = 'minio.${DOMAIN}:9000'", "SET s3_endpoint = 'minio.example.com:9000'"),
        ("SET VARIABLE v = 'it''s ${SECRET}'", "SET VARIABLE v = 'it''s x'' OR 1=1 --'"),
        ("-- ${UNSET} in a comment stays\nSET threads = 2", "-- ${UNSET} in a comment stays\nSET threads = 2"),
        ("SELECT \"${KEY}\"", "SELECT \"${KEY}\""),
    ],
)
def test_environment_values_become_literals_that_cannot_break_out(statement, expanded):
    values = {"KEY": "AKIA", "SECRET": "x' OR 1=1 --", "DOMAIN": "example.com"}
    assert expand_environment(statement, values) == expanded


def test_an_unset_variable_is_named():
    with pytest.raises(UnsetVariable) as raised:
        expand_environment("SET x = ${NOWHERE}", {})
    assert raised.value.name == "NOWHERE"


@pytest.mark.parametrize(
    ("uri", "shown", "secrets"),
    [
        ("postgresql://reader:pa%40ss@db.example.com:5432/shop?sslmode=require&password=other",
         "postgresql://reader@db.example.com:5432/shop", ["pa%40ss", "pa@ss", "other"]),
        ("postgresql://db.example.com/shop", "postgresql://db.example.com/shop", []),
        ("host=db port=5432 dbname=shop user=reader password=pw", "host=db port=5432 dbname=shop user=reader", ["pw"]),
        ("reader:pw@my_org-my_account/SHOP/PUBLIC?warehouse=WH&role=READER", "reader@my_org-my_account/SHOP/PUBLIC", ["pw"]),
        ("bigquery:///my-project?OAuthType=0&token=abc", "bigquery:///my-project", ["abc"]),
        ("md:shop?motherduck_token=eyJhbGciOi", "md:shop", ["eyJhbGciOi"]),
        ("/data/shop.sqlite", "/data/shop.sqlite", []),
    ],
)
def test_uris_are_shown_without_credentials(uri, shown, secrets):
    assert display_uri(uri) == shown
    assert secrets_in_uri(uri) == secrets
    redacted = redact(f"failed for {uri}", secrets_in_uri(uri))
    assert not any(secret in redacted for secret in secrets)


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        ({"path": "shop.duckdb"}, "duckdb_file"),
        ({}, "duckdb_files"),
        ({"setup": ["SET threads = 2"]}, "duckdb_files"),
        ({"attach": "md:shop", "setup": ["LOAD motherduck"]}, "duckdb_attach"),
        ({"adbc_driver": "postgresql"}, "adbc"),
        ({"adbc_driver": "snowflake", "uri_env": "SNOWFLAKE_URI"}, "adbc"),
    ],
)
def test_the_keys_given_decide_the_kind(config, kind):
    assert WarehouseSource.parse(config).kind == kind


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"path": "a.duckdb", "attach": "md:x"}, "invalid warehouse: give 'path' or 'attach', not both"),
        ({"adbc_driver": "postgresql", "setup": ["SET x = 1"]},
         "invalid warehouse: 'setup' is for DuckDB sources; an 'adbc_driver' source takes only 'uri_env'"),
        ({"uri_env": "X"}, "invalid warehouse: 'uri_env' needs 'adbc_driver'"),
        ({"adbc_driver": "postgresql", "uri_env": "not a name"},
         "invalid warehouse key 'uri_env': not an environment variable name: 'not a name'"),
        ({"path": " "}, "invalid warehouse key 'path': must not be empty"),
        ({"url": "postgresql://x"}, "invalid warehouse key 'url': unknown key (known: path, attach, setup, adbc_driver, uri_env)"),
        ({"setup": "LOAD httpfs"}, "invalid warehouse key 'setup': Input should be a valid tuple"),
    ],
)
def test_an_invalid_source_names_the_key(config, message):
    with pytest.raises(ConfigError) as raised:
        WarehouseSource.parse(config)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("config", "environment", "described"),
    [
        ({"path": "warehouse/shop.duckdb"}, {}, "warehouse/shop.duckdb"),
        ({}, {}, "files read by the extract SQL"),
        ({"attach": "md:shop?motherduck_token=${MOTHERDUCK_TOKEN}"}, {"MOTHERDUCK_TOKEN": "tok"}, "md:shop"),
        ({"adbc_driver": "postgresql"}, {}, "postgresql ($PINTEREST_WAREHOUSE_URI)"),
        ({"adbc_driver": "postgresql"}, {"PINTEREST_WAREHOUSE_URI": "postgresql://u:pw@h:5432/db"},
         "postgresql://u@h:5432/db"),
        ({"adbc_driver": "sqlite", "uri_env": "SHOP_DB"}, {"SHOP_DB": "/data/shop.sqlite"}, "sqlite:/data/shop.sqlite"),
        ({"adbc_driver": "snowflake"}, {"PINTEREST_WAREHOUSE_URI": "me:pw@acct/DB"}, "snowflake:me@acct/DB"),
    ],
)
def test_describe_never_shows_a_secret(config, environment, described, monkeypatch):
    monkeypatch.delenv("PINTEREST_WAREHOUSE_URI", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert WarehouseSource.parse(config).describe() == described


@pytest.mark.parametrize(
    ("warehouse", "adbc", "expected"),
    [
        ("shop.duckdb", None, WarehouseSource(path="shop.duckdb")),
        (None, "postgresql", WarehouseSource(adbc_driver="postgresql")),
        (None, None, WarehouseSource()),
    ],
)
def test_cli_options_build_the_source(warehouse, adbc, expected):
    assert WarehouseSource.from_cli_options(warehouse, adbc) == expected
