"""The generated transform SQL, compared byte for byte with committed snapshots.

The queries are generated from the source's columns and the config, so a refactoring of the
generator can change what runs without any rule test noticing (a changed plan, a lost fast path).
These cases pin the exact text for three column sets: the minimal contract, the columns of the
sample warehouse's extracts, and every column in its widest type (lists, structs, numbers).

When a change to the SQL is intended, regenerate the snapshots and review their diff:

    UPDATE_GOLDEN_SQL=1 pytest tests/test_golden_sql.py

Values that come from library data (pycountry's ISO lists) are replaced by a placeholder, so a
library upgrade does not change the snapshots; the SQL that reads them is still compared.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pinterest_pipeline.config import build_config
from pinterest_pipeline.transform import contract
from pinterest_pipeline.transform.contract import SourceColumns
from pinterest_pipeline.transform.event_sql import build_event_json_query, build_row_check_query

SNAPSHOT_DIR = Path(__file__).parent / "golden_sql"
UPDATE_ENV = "UPDATE_GOLDEN_SQL"
NOW = datetime(2024, 6, 2, 12, 0, tzinfo=timezone.utc)
SOURCE, POSITION = "pinterest_source", "(rowid - 0)"
LIBRARY_PARAMETERS = ("iso_639_1", "iso_4217")

MINIMAL = SourceColumns(
    {"event_id": contract.TEXT, "event_name": contract.TEXT, "event_time": contract.TEXT, "email": contract.TEXT},
    {},
)
SAMPLE_EXTRACTS = SourceColumns(
    {
        "event_id": contract.TEXT,
        "event_name": contract.TEXT,
        "event_time": contract.TIMESTAMPTZ,
        "action_source": contract.TEXT,
        "email": contract.TEXT,
        "phone": contract.TEXT,
        "first_name": contract.TEXT,
        "last_name": contract.TEXT,
        "city": contract.TEXT,
        "state": contract.TEXT,
        "zip": contract.TEXT,
        "country": contract.TEXT,
        "external_id": contract.TEXT,
        "client_ip_address": contract.TEXT,
        "client_user_agent": contract.TEXT,
        "event_source_url": contract.TEXT,
        "opt_out_type": contract.TEXT,
        "value": contract.DECIMAL,
        "currency": contract.TEXT,
        "order_id": contract.TEXT,
        "search_string": contract.TEXT,
        "content_category": contract.TEXT,
        "products": contract.STRUCT_LIST,
    },
    {
        "product_id": ("product_id", contract.TEXT),
        "price": ("price", contract.DECIMAL),
        "quantity": ("quantity", contract.INTEGER),
        "name": ("name", contract.TEXT),
    },
)
WIDEST = SourceColumns(
    {
        "event_id": contract.INTEGER,
        "event_name": contract.TEXT,
        "event_time": contract.TIMESTAMP,
        "action_source": contract.TEXT,
        "email": contract.TEXT_LIST,
        "phone": contract.TEXT_LIST,
        "maid": contract.TEXT_LIST,
        "first_name": contract.TEXT,
        "last_name": contract.TEXT,
        "gender": contract.TEXT,
        "date_of_birth": contract.DATE,
        "city": contract.TEXT,
        "state": contract.TEXT,
        "zip": contract.INTEGER,
        "country": contract.TEXT,
        "external_id": contract.INTEGER,
        "client_ip_address": contract.TEXT,
        "client_user_agent": contract.TEXT,
        "click_id": contract.TEXT,
        "partner_id": contract.TEXT,
        "event_source_url": contract.TEXT,
        "language": contract.TEXT,
        "opt_out": contract.TEXT,
        "opt_out_type": contract.TEXT,
        "value": contract.FRACTIONAL,
        "predicted_ltv": contract.TEXT,
        "currency": contract.TEXT,
        "order_id": contract.INTEGER,
        "search_string": contract.TEXT,
        "content_name": contract.TEXT,
        "content_category": contract.TEXT,
        "content_brand": contract.TEXT,
        "num_items": contract.TEXT,
        "products": contract.TEXT,
        **dict.fromkeys(
            ["app_id", "app_name", "app_version", "device_brand", "device_carrier", "device_model", "device_type"],
            contract.TEXT,
        ),
        "os_version": contract.TEXT,
        "wifi": contract.BOOLEAN,
    },
    {},
)

CASES = {
    # name: (columns, config)
    "minimal": (MINIMAL, {}),
    "sample_extracts": (
        SAMPLE_EXTRACTS,
        {"default_country": "fr", "default_currency": "EUR", "default_action_source": "web", "partner_name": "ss-acme"},
    ),
    "widest": (
        WIDEST,
        {
            "source_timezone": "Europe/Paris",
            "partition_timezone": "America/New_York",
            "unknown_events": "reject",
            "taxonomy": "segment",
            "event_mapping": {"Quote Requested": "lead"},
            "max_event_age": "3d",
        },
    ),
}


def rendered(columns: SourceColumns, config_values: dict) -> str:
    """Both queries of a transform, their lookups and bound values, as one reviewable text."""
    config = build_config(**config_values)
    checks = build_row_check_query(SOURCE, POSITION, columns, config, NOW)
    events_sql, events_parameters = build_event_json_query(SOURCE, POSITION, columns, config, NOW)
    ndjson_sql, _ = build_event_json_query(SOURCE, POSITION, columns, config, NOW, line_terminated=True)
    parts = ["-- lookups (session variables set before the row checks)"]
    parts += [f"SET VARIABLE {name} = ({select});" for name, select in checks.lookups.items()]
    parts += ["", "-- row checks", checks.sql + ";", "-- row check parameters", _parameters(checks.parameters)]
    parts += ["", "-- events", events_sql + ";", "-- event parameters", _parameters(events_parameters)]
    parts += ["", "-- events, line-terminated (NDJSON output)", ndjson_sql + ";", ""]
    return "\n".join(parts)


def _parameters(parameters: dict) -> str:
    shown = {
        name: f"<{len(value)} codes from pycountry>" if name in LIBRARY_PARAMETERS else value
        for name, value in sorted(parameters.items())
    }
    return "\n".join(f"--   {name} = {json.dumps(value, ensure_ascii=False)}" for name, value in shown.items())


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_sql_matches_snapshot(name):
    columns, config_values = CASES[name]
    actual = rendered(columns, config_values)
    path = SNAPSHOT_DIR / f"{name}.sql"
    if os.environ.get(UPDATE_ENV):
        SNAPSHOT_DIR.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; create it with {UPDATE_ENV}=1 pytest tests/test_golden_sql.py"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"the generated SQL of case {name!r} differs from {path}. If the change is intended, run "
        f"`{UPDATE_ENV}=1 pytest tests/test_golden_sql.py` and review the snapshot diff in the commit."
    )
