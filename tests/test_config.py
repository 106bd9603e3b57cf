"""Configuration: defaults, TOML/env/override precedence, and errors that name the bad key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pinterest_pipeline.config import ConfigError, build_config, load_config


def test_defaults_assume_nothing_about_the_business():
    config = build_config()
    assert config.default_country is None
    assert config.default_currency is None
    assert config.default_action_source is None
    assert config.source_timezone == "UTC"
    assert config.unknown_events == "custom"
    assert config.taxonomy == "default"
    assert config.max_event_age == timedelta(days=7)
    assert config.max_future_skew == timedelta(minutes=5)
    assert config.chunk_size == 1000
    assert config.concurrency == 4
    assert config.requests_per_minute == 5000
    assert config.test_requests_per_second == 10


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("partner_name", "Acme", "partner_name"),
        ("partner_name", "ss-Acme", "partner_name"),
        ("source_timezone", "Mars/Olympus", "source_timezone"),
        ("default_country", "USA", "default_country"),
        ("default_currency", "usdollar", "default_currency"),
        ("default_action_source", "email", "default_action_source"),
        ("unknown_events", "drop", "unknown_events"),
        ("taxonomy", "snowplow", "taxonomy"),
        ("chunk_size", 1001, "chunk_size"),
        ("max_event_age", "a week", "max_event_age"),
        ("event_mapping", {"Order Completed": "purchase"}, "event_mapping"),
        ("no_such_key", 1, "no_such_key"),
    ],
)
def test_invalid_values_fail_naming_the_key(key, value, message):
    with pytest.raises(ConfigError, match=f"invalid config key '{message}"):
        build_config(**{key: value})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("default_country", " US ", "us"),
        ("default_currency", "eur", "EUR"),
        ("partner_name", "ss-acme", "ss-acme"),
        ("max_event_age", "30d", timedelta(days=30)),
        ("max_future_skew", "90s", timedelta(seconds=90)),
        ("max_event_age", "P3D", timedelta(days=3)),
    ],
)
def test_values_are_canonicalized(key, value, expected):
    assert getattr(build_config(**{key: value}), key) == expected


def test_toml_then_environment_then_overrides(tmp_path, monkeypatch):
    path = tmp_path / "pipeline.toml"
    path.write_text(
        'default_country = "gb"\ndefault_currency = "GBP"\npartner_name = "ss-acme"\n'
        '[event_mapping]\n"Quote Requested" = "lead"\n'
    )
    monkeypatch.setenv("PINTEREST_PIPELINE_DEFAULT_CURRENCY", "EUR")
    config = load_config(path, default_country="fr", partner_name=None)
    assert config.default_country == "fr"  # explicit override wins
    assert config.default_currency == "EUR"  # environment beats the file
    assert config.partner_name == "ss-acme"  # None overrides are ignored
    assert config.event_mapping == {"Quote Requested": "lead"}


def test_toml_errors_name_the_file_or_key(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('partner_name = "Acme"\n')
    with pytest.raises(ConfigError, match="'partner_name'"):
        load_config(bad)
