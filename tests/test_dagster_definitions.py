"""The factory's definitions load as `dagster dev` loads them, without deprecation warnings from our
code; partitions and the schedule follow the configured time zone; several instances merge; bad
settings fail at load naming their key; the factory reads no environment; secrets stay out of reprs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pinterest_pipeline.config import ConfigError
from pinterest_pipeline.dagster import PinterestResource, PipelineSettingsResource, build_pinterest_defs
from pinterest_pipeline.support.package_files import sql_path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = (str(REPO_ROOT / "dagster_project"), str(REPO_ROOT / "pinterest_pipeline"))
ORDERS_SQL = sql_path("extract_orders.sql")
EVENTS_SQL = sql_path("extract_events.sql")
CONVERSION_CHECK_NAMES = (
    "identifier_rule",
    "ldp_flags",
    "no_clear_text_pii",
    "event_id_unique",
    "event_name_valid",
    "action_source_valid",
    "event_time_window",
)


def _arguments(**overrides):
    return {
        "extracts": {"extract_orders": ORDERS_SQL, "extract_events": EVENTS_SQL},
        "warehouse": {"path": "warehouse.duckdb"},
        "pinterest": {"ad_account_id": "549755885175"},
        "partitions": {"start_date": "2025-01-01"},
        "schedule": {"hour_of_day": 2},
        **overrides,
    }


# Builds the definitions in a fresh interpreter (warnings fire once per process) and reports, as
# JSON, the warnings raised from our files and what the schedule does at a given tick.
_PROBE = """
import json, sys, warnings
from datetime import datetime
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import dagster as dg
    from pinterest_pipeline.dagster import build_pinterest_defs
    from pinterest_pipeline.support.package_files import sql_path
    defs = build_pinterest_defs(
        extracts={"extract_orders": sql_path("extract_orders.sql")},
        warehouse={"path": "warehouse.duckdb"},
        pinterest={"ad_account_id": "549755885175"},
        partitions={"start_date": sys.argv[2], "timezone": sys.argv[1]},
        schedule={},
    )
    dg.Definitions.validate_loadable(defs)
schedule = defs.resolve_schedule_def("pinterest_daily_schedule")
job = defs.resolve_job_def("pinterest_daily")
tick = datetime.fromisoformat(sys.argv[3])
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


SCHEDULE_CASES = [
    # (partitions' time zone, start date, schedule tick in that zone, partition it must request)
    ("UTC", "2025-01-01", "2026-03-10T02:00:00+00:00", "2026-03-09"),
    # 02:00 in Auckland is still 2026-03-09 in UTC: yesterday there is 03-09, in UTC it would be 03-08.
    ("Pacific/Auckland", "2026-01-15", "2026-03-10T02:00:00+13:00", "2026-03-09"),
]


@pytest.mark.parametrize(("timezone", "start", "tick", "expected"), SCHEDULE_CASES)
def test_schedule_requests_yesterday_in_the_partitions_time_zone(timezone, start, tick, expected):
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, timezone, start, tick], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    probe = json.loads(completed.stdout.strip().splitlines()[-1])

    assert probe["requested_partitions"] == [expected]
    assert probe["schedule_timezone"] == probe["partitions_timezone"] == timezone
    assert probe["first_partition"] == start
    ours = [w for w in probe["warnings"] if w[1].startswith(OUR_PACKAGES) and w[0] != "UserWarning"]
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


def test_definitions_hold_every_asset_check_job_and_schedule():
    defs = build_pinterest_defs(**_arguments())

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assets = {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}
    assert sorted(assets) == ["extract_events", "extract_orders", "pinterest_conversions", "pinterest_upload"]
    assert {node.group_name for node in assets.values()} == {"pinterest"}
    assert all(node.description and node.kinds for node in assets.values())
    assert {key.to_user_string() for key in graph.get(dg.AssetKey("pinterest_conversions")).parent_keys} == {
        "extract_events",
        "extract_orders",
    }
    checks = {(key.asset_key.to_user_string(), key.name): graph.get_check_spec(key) for key in graph.asset_check_keys}
    assert set(checks) == {
        *(("pinterest_conversions", name) for name in CONVERSION_CHECK_NAMES),
        ("pinterest_conversions", "rows_extracted"),
        ("pinterest_upload", "accounts_for_every_row"),
    }
    assert [name for (asset, name), spec in checks.items() if asset == "pinterest_conversions" and not spec.blocking] == [
        "rows_extracted"
    ]
    assert defs.resolve_job_def("pinterest_daily") and defs.resolve_schedule_def("pinterest_daily_schedule")
    # No executor: the user's code location (or its default) decides how steps run.
    assert defs.executor is None


def test_two_instances_merge_into_one_definitions_without_collisions(tmp_path):
    us = build_pinterest_defs(**_arguments(key_prefix="pinterest_us", state=str(tmp_path / "us.duckdb")))
    eu = build_pinterest_defs(
        **_arguments(
            key_prefix=["pinterest", "eu"],
            group_name="pinterest_eu",
            extracts={"extract_orders": ORDERS_SQL},
            state=str(tmp_path / "eu.duckdb"),
            pinterest={"ad_account_id": "123456", "access_token_env": "PINTEREST_EU_TOKEN"},
        )
    )

    merged = dg.Definitions.merge(us, eu)

    dg.Definitions.validate_loadable(merged)
    keys = sorted(key.to_user_string() for key in merged.resolve_asset_graph().get_all_asset_keys())
    assert keys == [
        "pinterest/eu/extract_orders",
        "pinterest/eu/pinterest_conversions",
        "pinterest/eu/pinterest_upload",
        "pinterest_us/extract_events",
        "pinterest_us/extract_orders",
        "pinterest_us/pinterest_conversions",
        "pinterest_us/pinterest_upload",
    ]
    assert {job.name for job in merged.resolve_all_job_defs()} >= {"pinterest_us_daily", "pinterest_eu_daily"}
    assert sorted(merged.resources) == sorted(
        f"{name}__{role}" for name in ("pinterest_us", "pinterest_eu") for role in ("api", "clock", "settings", "state", "warehouse")
    )
    assert merged.resources["pinterest_eu__api"].access_token == dg.EnvVar("PINTEREST_EU_TOKEN")


def test_a_postgresql_state_pools_only_the_upload_per_ad_account():
    file_defs = build_pinterest_defs(**_arguments())
    shared_defs = build_pinterest_defs(**_arguments(state="postgresql://pipeline@db.internal:5432/pinterest"))

    def pools(defs):
        graph = defs.resolve_asset_graph()
        return {key.to_user_string(): graph.get(key).pools for key in graph.get_all_asset_keys()}

    assert set(map(frozenset, pools(file_defs).values())) == {frozenset({"pinterest_pipeline_db"})}
    assert pools(shared_defs) == {
        "extract_orders": set(),
        "extract_events": set(),
        "pinterest_conversions": set(),
        "pinterest_upload": {"pinterest_ad_account_549755885175"},
    }


def test_the_factory_reads_no_environment_variable(monkeypatch):
    class NoReads(dict):
        def __getitem__(self, name):
            raise AssertionError(f"the factory read {name}")

        def get(self, name, default=None):
            raise AssertionError(f"the factory read {name}")

    monkeypatch.setattr(os, "environ", NoReads(os.environ))

    defs = build_pinterest_defs(**_arguments())

    assert len(list(defs.assets)) == 4


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"partitions": {"start_date": "2025-13-01"}}, "invalid partitions.start_date: must be a date YYYY-MM-DD, got '2025-13-01'"),
        (
            {"partitions": {"start_date": "2025-01-01", "timezone": "Mars/Olympus"}},
            "invalid partitions.timezone: not an IANA time zone: 'Mars/Olympus'",
        ),
        ({"partitions": {"start_date": "2025-01-01", "tz": "UTC"}}, "invalid partitions.tz: unknown key"),
        ({"pinterest": {"ad_account_id": "act_123"}}, "invalid pinterest.ad_account_id: must be 1 to 18 digits, got 'act_123'"),
        (
            {"pinterest": {"ad_account_id": "1", "access_token_env": "pina_AbC-123.xyz"}},
            "invalid pinterest.access_token_env: must be the name of an environment variable (e.g."
            " PINTEREST_ACCESS_TOKEN), not a token: got a value of 16 characters",
        ),
        ({"settings": {"default_country": "xx"}}, "invalid setting 'settings.default_country': 'xx' is not an ISO-3166 alpha-2 country code"),
        ({"settings": {"colour": "red"}}, "invalid setting 'settings.colour': unknown key"),
        ({"schedule": {"hour_of_day": 24}}, "invalid schedule.hour_of_day: must be 0 to 23, got 24"),
        ({"extracts": {}}, "invalid extracts: give at least one extract name -> SQL file"),
        ({"extracts": {"extract_orders": "missing.sql"}}, "invalid extracts.extract_orders: SQL file {base}/missing.sql does not exist"),
        ({"extracts": {"pinterest_events": ORDERS_SQL}}, "invalid extracts.pinterest_events: an extract name must be a"),
        ({"key_prefix": "pinterest-us"}, "invalid key_prefix ['pinterest-us']: 'pinterest-us' is not a name (letters, digits, _)"),
        ({"fixed_now": "yesterday"}, "clock fixed_now is not an ISO-8601 instant: 'yesterday'"),
        ({"warehouse": {"paths": "w.duckdb"}}, "invalid warehouse.paths: unknown key"),
        (
            {"state": "postgresql://pipeline:s3cret@db.internal:5432/pinterest"},
            "invalid state: the postgresql:// URL holds a password, which the Dagster UI would show; give"
            " postgresql://user@host:port/database and the password in PGPASSWORD (or ~/.pgpass)",
        ),
        (
            {"warehouse": {"path": "w.duckdb", "adbc_driver": "postgresql"}},
            "invalid warehouse: 'path' is for DuckDB sources; an 'adbc_driver' source takes only 'uri_env'",
        ),
    ],
)
def test_bad_arguments_fail_at_load_naming_the_key(tmp_path, overrides, message):
    with pytest.raises(ConfigError) as raised:
        build_pinterest_defs(**_arguments(**overrides), base_dir=tmp_path)
    assert str(raised.value).startswith(message.format(base=tmp_path))


def test_the_token_never_shows_in_the_resource_repr():
    resource = PinterestResource(ad_account_id="549755885175", access_token="s3cret-token-value")

    for text in (repr(resource), str(resource), repr(resource.target())):
        assert "s3cret-token-value" not in text


def test_settings_take_the_partitions_time_zone_and_refuse_another():
    assert PipelineSettingsResource(settings={"default_country": "us"}).load("Europe/Paris").partition_timezone == (
        "Europe/Paris"
    )

    with pytest.raises(ConfigError) as raised:
        PipelineSettingsResource(settings={"partition_timezone": "America/New_York"}).load("Europe/Paris")
    assert str(raised.value) == (
        "invalid setting 'settings.partition_timezone': 'America/New_York' differs from the partitions' time zone"
        " 'Europe/Paris' (set partitions.timezone instead)"
    )


def test_importing_the_integration_changes_no_warning_filter_and_reads_no_environment():
    probe = (
        "import os, warnings; reads = []\n"
        "class Env(dict):\n"
        "    def get(self, k, d=None): reads.append(k); return super().get(k, d)\n"
        "    def __getitem__(self, k): reads.append(k); return super().__getitem__(k)\n"
        "import dagster, duckdb, numpy, pandas, pyarrow  # third-party filters (numpy adds some) come first\n"
        "before = list(warnings.filters); os.environ = Env(os.environ)\n"
        "import pinterest_pipeline.dagster, pinterest_pipeline.cli\n"
        "print(warnings.filters == before, [r for r in reads if r.startswith('PINTEREST')])"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert completed.stdout.strip() == "True []", completed.stderr
