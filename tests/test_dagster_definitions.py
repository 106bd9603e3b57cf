"""The Dagster definitions load, as `dagster dev` loads them, without deprecation warnings from our
code; partitions and the schedule follow the configured time zone; secrets stay out of reprs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.partitions import START_DATE_ENV, TIMEZONE_ENV, build_daily_partitions
from dagster_project.resources import PinterestResource, PipelineConfigResource
from pinterest_pipeline.config import ConfigError, build_config

REPO_ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = (str(REPO_ROOT / "dagster_project"), str(REPO_ROOT / "pinterest_pipeline"))

# Imports the definitions in a fresh interpreter (warnings fire once per process) and reports, as
# JSON, the warnings raised from our files and what the schedule does at a given tick.
_PROBE = """
import json, sys, warnings
from datetime import datetime
from zoneinfo import ZoneInfo
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import dagster as dg
    from dagster_project.definitions import defs
    dg.Definitions.validate_loadable(defs)
schedule = defs.resolve_schedule_def("pinterest_daily_schedule")
job = defs.resolve_job_def("pinterest_daily")
tick = datetime.fromisoformat(sys.argv[1])
with dg.build_schedule_context(scheduled_execution_time=tick) as context:
    requests = schedule.evaluate_tick(context).run_requests
print(json.dumps({
    "warnings": [[w.category.__name__, w.filename, str(w.message)] for w in caught],
    "schedule_timezone": schedule.execution_timezone,
    "partitions_timezone": job.partitions_def.timezone,
    "first_partition": job.partitions_def.get_first_partition_key(),
    "requested_partitions": [request.partition_key for request in requests],
}))
"""


def _probe(env: dict[str, str], tick: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k not in (START_DATE_ENV, TIMEZONE_ENV)} | env
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, tick],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


SCHEDULE_CASES = [
    # (partitions' time zone, start date, schedule tick in that zone, partition it must request)
    ("UTC", "2025-01-01", "2026-03-10T02:00:00+00:00", "2026-03-09"),
    # 02:00 in Auckland is still 2026-03-09 in UTC: yesterday there is 03-09, in UTC it would be 03-08.
    ("Pacific/Auckland", "2026-01-15", "2026-03-10T02:00:00+13:00", "2026-03-09"),
]


@pytest.mark.parametrize(("timezone", "start", "tick", "expected"), SCHEDULE_CASES)
def test_schedule_requests_yesterday_in_the_partitions_time_zone(timezone, start, tick, expected):
    probe = _probe({TIMEZONE_ENV: timezone, START_DATE_ENV: start}, tick)

    assert probe["requested_partitions"] == [expected]
    assert probe["schedule_timezone"] == probe["partitions_timezone"] == timezone
    assert probe["first_partition"] == start
    ours = [w for w in probe["warnings"] if w[0] == "DeprecationWarning" and w[1].startswith(OUR_PACKAGES)]
    assert ours == []


def test_dagster_cli_validates_the_workspace():
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "Validation successful" in output
    assert not [line for line in output.splitlines() if "DeprecationWarning" in line and str(REPO_ROOT) in line]


def test_definitions_hold_every_asset_check_and_schedule():
    from dagster_project.definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assets = {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}
    assert sorted(assets) == ["extract_events", "extract_orders", "pinterest_conversions", "pinterest_upload"]
    assert {node.group_name for node in assets.values()} == {"pinterest"}
    assert all(node.description and node.kinds for node in assets.values())
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert checks == {
        *(
            ("pinterest_conversions", name)
            for name in (
                "identifier_rule",
                "ldp_flags",
                "no_clear_text_pii",
                "event_id_unique",
                "event_name_valid",
                "action_source_valid",
                "event_time_window",
            )
        ),
        ("pinterest_upload", "accounts_for_every_row"),
    }
    assert all(
        graph.get_check_spec(key).blocking
        for key in graph.asset_check_keys
        if key.asset_key.to_user_string() == "pinterest_conversions"
    )


def test_the_token_never_shows_in_the_resource_repr():
    resource = PinterestResource(ad_account_id="549755885175", access_token="s3cret-token-value")

    for text in (repr(resource), str(resource), repr(resource.target())):
        assert "s3cret-token-value" not in text


@pytest.mark.parametrize(
    ("start", "timezone", "message"),
    [
        ("2025-13-01", "UTC", "PINTEREST_PIPELINE_START_DATE must be a date YYYY-MM-DD, got '2025-13-01'"),
        (
            "2025-01-01",
            "Mars/Olympus",
            "PINTEREST_PIPELINE_PARTITION_TIMEZONE is not an IANA time zone: 'Mars/Olympus'",
        ),
    ],
)
def test_bad_partition_settings_name_the_variable(start, timezone, message):
    with pytest.raises(ConfigError) as raised:
        build_daily_partitions(start, timezone)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("resource_limits", "config_limits", "expected"),
    [
        ({}, {}, (1000, 4, 5000)),
        ({}, {"chunk_size": 200, "concurrency": 2}, (200, 2, 5000)),
        ({"chunk_size": 10, "requests_per_minute": 60}, {"chunk_size": 200}, (10, 4, 60)),
    ],
)
def test_resource_limits_override_the_engine_config_only_when_set(resource_limits, config_limits, expected):
    resource = PinterestResource(ad_account_id="549755885175", access_token="token", **resource_limits)

    config = resource.delivery_config(build_config(**config_limits))

    assert (config.chunk_size, config.concurrency, config.requests_per_minute) == expected


def _config_resource(tmp_path, monkeypatch, toml: str) -> PipelineConfigResource:
    monkeypatch.delenv(TIMEZONE_ENV, raising=False)
    config_file = tmp_path / "pipeline.toml"
    config_file.write_text(toml)
    return PipelineConfigResource(config_file=str(config_file))


@pytest.mark.parametrize("toml", ["default_country = 'us'\n", "partition_timezone = 'Europe/Paris'\n"])
def test_the_engine_config_takes_the_partitions_time_zone(tmp_path, monkeypatch, toml):
    resource = _config_resource(tmp_path, monkeypatch, toml)

    assert resource.load("Europe/Paris").partition_timezone == "Europe/Paris"


def test_a_config_naming_another_time_zone_is_refused(tmp_path, monkeypatch):
    resource = _config_resource(tmp_path, monkeypatch, "partition_timezone = 'America/New_York'\n")

    with pytest.raises(ConfigError) as raised:
        resource.load("Europe/Paris")
    assert str(raised.value) == (
        "invalid config key 'partition_timezone': 'America/New_York' differs from the partitions' time zone"
        " 'Europe/Paris' (set PINTEREST_PIPELINE_PARTITION_TIMEZONE instead)"
    )
