"""The component as a `dg` user meets it: listed by `dg list components`, scaffolded by `dg scaffold
defs`, two instances (one with its own SQL) checked by `dg check defs`, launched by `dg launch` against
the fake API, and wrong attributes refused naming them. Real `dg` commands in a project made in a
temporary directory the way `create-dagster project` makes one; unit tests through
`dagster.components.testing`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster.components.testing import create_defs_folder_sandbox

from pinterest_pipeline.dagster import PinterestConversionsComponent
from pinterest_pipeline.fake_api import FakePinterestApi
from pinterest_pipeline.support.package_files import sql_path
from tests.dagster_support import WAREHOUSE_KEYS, warehouse  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

COMPONENT = "pinterest_pipeline.dagster.PinterestConversionsComponent"
DG = str(Path(sys.executable).with_name("dg"))
PROJECT = "acme_orchestration"

# What `create-dagster project acme_orchestration` writes that `dg` reads.
_PYPROJECT = f"""\
[project]
name = "{PROJECT}"
requires-python = ">=3.10"
version = "0.1.0"
dependencies = ["dagster"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "{PROJECT}"
registry_modules = ["{PROJECT}.components.*"]
"""
_DEFINITIONS = """\
from pathlib import Path

from dagster import definitions, load_from_defs_folder


@definitions
def defs():
    return load_from_defs_folder(path_within_project=Path(__file__).parent)
"""


def _dg(project: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 240):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "DAGSTER_HOME"))}
    # As if the project were installed into the environment (`uv sync` / `pip install -e .` would).
    environment["PYTHONPATH"] = str(project / "src")
    environment.update(env or {})
    return subprocess.run(
        [DG, *args], cwd=project, env=environment, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / PROJECT
    package = root / "src" / PROJECT
    (package / "defs").mkdir(parents=True)
    (package / "components").mkdir()
    (root / "pyproject.toml").write_text(_PYPROJECT)
    for init in (package / "__init__.py", package / "defs" / "__init__.py", package / "components" / "__init__.py"):
        init.touch()
    (package / "definitions.py").write_text(_DEFINITIONS)
    return root


def _defs_dir(project: Path, name: str) -> Path:
    return project / "src" / PROJECT / "defs" / name


def _configure(project: Path, name: str, **attributes) -> None:
    """Edit a scaffolded defs.yaml as the user would."""
    path = _defs_dir(project, name) / "defs.yaml"
    document = yaml.safe_load(path.read_text())
    document["attributes"].update(attributes)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_dg_lists_and_scaffolds_the_component(project):
    listed = _dg(project, "list", "components", "--json")
    assert listed.returncode == 0, listed.stderr
    assert COMPONENT in {entry["key"] for entry in json.loads(listed.stdout)["items"]}

    scaffolded = _dg(project, "scaffold", "defs", COMPONENT, "pinterest_us")

    assert scaffolded.returncode == 0, scaffolded.stderr
    folder = _defs_dir(project, "pinterest_us")
    assert sorted(p.name for p in folder.iterdir()) == ["defs.yaml", "extract_events.sql", "extract_orders.sql"]
    for name in ("extract_orders.sql", "extract_events.sql"):
        assert (folder / name).read_text() == sql_path(name).read_text()
    attributes = yaml.safe_load((folder / "defs.yaml").read_text())["attributes"]
    assert attributes["key_prefix"] == ["pinterest_us"]
    assert attributes["pinterest"]["access_token_env"] == "PINTEREST_ACCESS_TOKEN"
    checked = _dg(project, "check", "defs")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_two_instances_check_list_and_launch_against_the_fake_api(project, warehouse):  # noqa: F811
    for name in ("pinterest_us", "pinterest_eu"):
        assert _dg(project, "scaffold", "defs", COMPONENT, name).returncode == 0
    # The EU instance has one extract of its own: the orders only, from a SQL file the user wrote.
    eu_dir = _defs_dir(project, "pinterest_eu")
    (eu_dir / "eu_orders.sql").write_text((eu_dir / "extract_orders.sql").read_text())
    with FakePinterestApi() as fake_api:
        common = {
            "partitions": {"start_date": WAREHOUSE_KEYS[0], "timezone": "UTC"},
            "warehouse": {"path": str(warehouse)},
        }
        _configure(
            project,
            "pinterest_us",
            **common,
            state=".pinterest_pipeline/us.duckdb",
            pinterest={
                "ad_account_id": fake_api.ad_account_id,
                "access_token_env": "US_TOKEN",
                "api_url": fake_api.url,
            },
        )
        _configure(
            project,
            "pinterest_eu",
            **common,
            extracts={"extract_orders": "eu_orders.sql"},
            state=".pinterest_pipeline/eu.duckdb",
            pinterest={"ad_account_id": "123456", "access_token_env": "EU_TOKEN", "api_url": fake_api.url},
        )

        checked = _dg(project, "check", "defs")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        listed = _dg(project, "list", "defs", "--json")
        assert listed.returncode == 0, listed.stderr
        keys = {asset["asset_key"] for asset in json.loads(listed.stdout)["assets"]}
        assert keys == {
            "pinterest_us/extract_orders",
            "pinterest_us/extract_events",
            "pinterest_us/pinterest_conversions",
            "pinterest_us/pinterest_upload",
            "pinterest_eu/extract_orders",
            "pinterest_eu/pinterest_conversions",
            "pinterest_eu/pinterest_upload",
        }

        day = WAREHOUSE_KEYS[-1]
        token = {"US_TOKEN": fake_api.access_token}
        first = _dg(project, "launch", "--assets", "group:pinterest_us", "--partition", day, env=token)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        received = len(fake_api.received)
        assert received > 0
        assert max(fake_api.processed_counts().values()) == 1
        assert (project / ".pinterest_pipeline" / "us.duckdb").is_file()
        assert not (project / ".pinterest_pipeline" / "eu.duckdb").exists()

        second = _dg(project, "launch", "--assets", "group:pinterest_us", "--partition", day, env=token)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert len(fake_api.received) == received
        assert fake_api.access_token not in first.stdout + first.stderr + second.stdout + second.stderr


@pytest.mark.parametrize(
    ("attributes", "named"),
    [
        ({"colour": "red"}, "colour"),
        ({"partitions": {"start_date": "2026-11-01", "timezone": "Mars/Olympus"}}, "timezone"),
        ({"extracts": {"extract_orders": "missing.sql"}}, "invalid extracts.extract_orders: SQL file"),
        ({"settings": {"taxonomy": "acme"}}, "invalid setting 'settings.taxonomy': unknown taxonomy 'acme'"),
    ],
)
def test_a_wrong_attribute_fails_dg_check_defs_naming_it(project, attributes, named):
    assert _dg(project, "scaffold", "defs", COMPONENT, "pinterest_us").returncode == 0
    _configure(project, "pinterest_us", **attributes)

    checked = _dg(project, "check", "defs")

    assert checked.returncode != 0
    assert named in checked.stdout + checked.stderr


def _sandbox_defs(attributes: dict) -> dg.Definitions:
    with create_defs_folder_sandbox() as sandbox:
        defs_path = sandbox.scaffold_component(component_cls=PinterestConversionsComponent, defs_path="pinterest_us")
        document = yaml.safe_load((defs_path / "defs.yaml").read_text())
        document["attributes"].update(attributes)
        (defs_path / "defs.yaml").write_text(yaml.safe_dump(document))
        with sandbox.load_component_and_build_defs(defs_path=defs_path) as (component, defs):
            assert isinstance(component, PinterestConversionsComponent)
            return defs


def test_the_component_builds_the_factorys_definitions():
    defs = _sandbox_defs({"pinterest": {"ad_account_id": "549755885175", "access_token_env": "ACME_TOKEN"}})

    keys = sorted(key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys())
    assert keys == [
        "pinterest_us/extract_events",
        "pinterest_us/extract_orders",
        "pinterest_us/pinterest_conversions",
        "pinterest_us/pinterest_upload",
    ]
    assert defs.resolve_job_def("pinterest_us_daily") and defs.resolve_schedule_def("pinterest_us_daily_schedule")
    api = defs.resources["pinterest_us__api"]
    assert api.access_token == dg.EnvVar("ACME_TOKEN")


def test_translation_changes_group_and_owners_and_keeps_the_graph():
    defs = _sandbox_defs(
        {
            "pinterest": {"ad_account_id": "549755885175"},
            "translation": {"group_name": "marketing", "owners": ["team:growth"]},
        }
    )

    graph = defs.resolve_asset_graph()
    nodes = [graph.get(key) for key in graph.get_all_asset_keys()]
    assert {node.group_name for node in nodes} == {"marketing"}
    assert all(node.owners == ["team:growth"] for node in nodes)
    upload = graph.get(dg.AssetKey(["pinterest_us", "pinterest_upload"]))
    assert upload.parent_keys == {dg.AssetKey(["pinterest_us", "pinterest_conversions"])}
