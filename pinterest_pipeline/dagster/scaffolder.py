"""`dg scaffold defs pinterest_pipeline.dagster.PinterestConversionsComponent NAME`: writes the
component's `defs.yaml` and the two extract SQL templates beside it, the files the user edits."""

from __future__ import annotations

import shutil

import dagster as dg

from pinterest_pipeline.support.package_files import sql_path

SQL_TEMPLATES = ("extract_orders.sql", "extract_events.sql")

_DEFS_YAML = """\
type: {type_name}

attributes:
  # Asset keys become {name}/extract_orders, ...; the job, schedule and resources are named after it.
  key_prefix: [{name}]
  group_name: {name}
  partitions: {{start_date: "{start_date}", timezone: UTC}}
  # Asset name -> SQL file beside this defs.yaml. Edit the SQL for your warehouse's tables.
  extracts:
    extract_orders: extract_orders.sql
    extract_events: extract_events.sql
  warehouse: {{path: "{{{{ env('PINTEREST_WAREHOUSE_PATH', 'warehouse.duckdb') }}}}"}}
  # The pipeline's own database (events, rejects, the delivery ledger); relative to the project root.
  state: "{{{{ env('PINTEREST_PIPELINE_STATE', '.pinterest_pipeline/{name}.duckdb') }}}}"
  pinterest:
    ad_account_id: "{{{{ env('PINTEREST_AD_ACCOUNT_ID', '0') }}}}"
    # The NAME of the variable holding the token: its value never appears in config, the UI or logs.
    access_token_env: PINTEREST_ACCESS_TOKEN
    test_mode: true
  # Any engine setting: taxonomy, default_country, default_action_source, max_event_age, ...
  settings: {{taxonomy: default}}
  schedule: {{hour_of_day: 2, minute_of_hour: 0}}
"""


class PinterestComponentScaffolder(dg.Scaffolder):
    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        from datetime import date, timedelta

        target = request.target_path
        target.mkdir(parents=True, exist_ok=True)
        # Pinterest takes events up to about 7 days old: the first partition a backfill can still send.
        start = date.today() - timedelta(days=7)
        (target / "defs.yaml").write_text(
            _DEFS_YAML.format(type_name=request.type_name, name=target.name, start_date=start.isoformat()),
            encoding="utf-8",
        )
        for template in SQL_TEMPLATES:
            shutil.copyfile(sql_path(template), target / template)
