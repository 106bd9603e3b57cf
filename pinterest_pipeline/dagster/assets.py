"""The assets of one pipeline instance, one daily partition each: warehouse -> extracts ->
Pinterest events -> Pinterest.

Each asset is a thin call into the engine for every day of its run. Extract and transform take a
whole backfill range in one run (`BackfillPolicy.single_run()`) and still record metadata per day;
the upload goes one day per run, so a refused or failing day does not hold back the others.
Retries cover crashes only (a killed process, a lock held too long): errors the user has to fix
(configuration, token, refused checks) fail at once, with a one-line message.
"""

import dagster as dg

from pinterest_pipeline.dagster import check_gate
from pinterest_pipeline.dagster.instance import (
    API,
    CLOCK,
    CRASH_RETRY,
    SETTINGS,
    STATE,
    WAREHOUSE,
    PipelineInstance,
    user_errors_fail_without_retry,
)
from pinterest_pipeline.dagster.metadata import (
    accounts_delivery_metadata,
    conversion_metadata,
    delivery_metadata,
    extract_metadata,
)
from pinterest_pipeline.dagster.partitions import day_window, partition_day
from pinterest_pipeline.delivery import deliver_per_account
from pinterest_pipeline.pipeline_tables import EVENTS_TABLE, REJECTS_TABLE
from pinterest_pipeline.state import TransformRecord
from pinterest_pipeline.transform import transform

# Scratch tables of one run (temporary), replaced on every use and dropped when the day is written.
_STAGED_EXTRACT = "staged_extract"
_DAY_SOURCE = "conversion_source"
_STAGED_EVENTS = "staged_pinterest_events"
_STAGED_REJECTS = "staged_pinterest_rejects"
_DAY_EVENTS = "day_pinterest_events"


def _op_name(instance: PipelineInstance, asset_name: str) -> str:
    # Op names are unique per code location, so they carry the key prefix too.
    return "__".join([*instance.names.key_prefix, asset_name])


def build_extract_asset(instance: PipelineInstance, name: str) -> dg.AssetsDefinition:
    """The asset that runs extract `name`'s SQL file for each day of its run into the state's table `name`."""
    spec = instance.extract_specs[name]
    sql_file = instance.extract_files[name]

    @dg.multi_asset(
        name=_op_name(instance, name),
        specs=[spec.replace_attributes(partitions_def=instance.partitions)],
        required_resource_keys={instance.resource_key(WAREHOUSE), instance.resource_key(STATE)},
        pool=instance.pool,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=CRASH_RETRY,
    )
    def _extract(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        warehouse = instance.resource(context, WAREHOUSE)
        state = instance.resource(context, STATE)
        with user_errors_fail_without_retry(), state.session() as session:
            for key in context.partition_keys:
                start, end = day_window(instance.partitions, key)
                # Staged in a temporary table: the state stores the day's rows once, replacing the old ones.
                rows = warehouse.extract(session.con, sql_file, start, end, _STAGED_EXTRACT, temporary=True)
                session.write_day(partition_day(key), {name: _STAGED_EXTRACT})
                context.add_asset_metadata(extract_metadata(rows, start, end), partition_key=key)
            session.con.execute(f"DROP TABLE IF EXISTS {_STAGED_EXTRACT}")
        return dg.MaterializeResult()

    return _extract


def build_conversions_asset(instance: PipelineInstance) -> dg.AssetsDefinition:
    spec = instance.conversions_spec.replace_attributes(
        partitions_def=instance.partitions, deps=[s.key for s in instance.extract_specs.values()]
    )

    @dg.multi_asset(
        name=_op_name(instance, "pinterest_conversions"),
        specs=[spec],
        required_resource_keys={instance.resource_key(r) for r in (STATE, SETTINGS, CLOCK)},
        pool=instance.pool,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=CRASH_RETRY,
    )
    def _conversions(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        # Each day is transformed on its own, so a day's events, rejects and duplicates are the same
        # whether it ran alone (the daily schedule) or inside a backfill range.
        state = instance.resource(context, STATE)
        with user_errors_fail_without_retry(), state.session() as session:
            con = session.con
            config = instance.resource(context, SETTINGS).load(instance.timezone)
            now = instance.resource(context, CLOCK).now()
            record = TransformRecord(
                now, int(config.max_event_age.total_seconds()), int(config.max_future_skew.total_seconds())
            )
            for key in context.partition_keys:
                day = partition_day(key)
                session.stage_day_source(day, instance.extract_tables, _DAY_SOURCE)
                result = transform(
                    con,
                    _DAY_SOURCE,
                    config,
                    now=now,
                    events_table=_STAGED_EVENTS,
                    rejects_table=_STAGED_REJECTS,
                    temporary=True,
                )
                # Events, rejects and the clock they were judged by replace the day's in one transaction.
                session.write_day(
                    day, {EVENTS_TABLE: _STAGED_EVENTS, REJECTS_TABLE: _STAGED_REJECTS}, transform_record=record
                )
                context.add_asset_metadata(conversion_metadata(con, _STAGED_EVENTS, result), partition_key=key)
            for scratch in (_STAGED_EVENTS, _STAGED_REJECTS):
                con.execute(f"DROP TABLE IF EXISTS {scratch}")
        return dg.MaterializeResult()

    return _conversions


def build_upload_asset(instance: PipelineInstance, blocking_checks: list[dg.AssetCheckKey]) -> dg.AssetsDefinition:
    spec = instance.upload_spec.replace_attributes(
        partitions_def=instance.partitions, deps=[instance.conversions_spec.key]
    )

    @dg.multi_asset(
        name=_op_name(instance, "pinterest_upload"),
        specs=[spec],
        required_resource_keys={instance.resource_key(r) for r in (STATE, SETTINGS, *instance.api_roles)},
        pool=instance.upload_pool,
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
        retry_policy=CRASH_RETRY,
    )
    def _upload(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        conversions = instance.conversions_spec.key
        problems = [
            problem
            for key in context.partition_keys
            for problem in check_gate.refusals(context.instance, conversions, blocking_checks, key)
        ]
        if problems:
            raise dg.Failure(description=check_gate.refusal_message(problems, conversions), allow_retries=False)
        state = instance.resource(context, STATE)
        with user_errors_fail_without_retry(), state.session() as session:
            config = instance.resource(context, SETTINGS).load(instance.timezone)
            if instance.accounts:
                _upload_accounts(context, instance, session, config)
                return dg.MaterializeResult()
            target = instance.resource(context, API).target()
            for key in context.partition_keys:
                days = [partition_day(key)]
                events = _stage_day_events(instance, session, days)
                report = session.deliver(events, target, config, partition_days=days)
                day = session.delivery_accounting(
                    events, target.ad_account_id, partition_days=days, test=target.test_mode
                )
                context.add_asset_metadata(delivery_metadata(report, day), partition_key=key)
        return dg.MaterializeResult()

    return _upload


def _stage_day_events(instance: PipelineInstance, session, days: list) -> str:
    """The state's events of `days`, readable in the session's DuckDB; a `Failure` before any transform."""
    if not session.table_exists(EVENTS_TABLE):
        raise dg.Failure(
            description=f"{instance.conversions_spec.key.to_user_string()} has stored no events yet",
            allow_retries=False,
        )
    return session.stage_events(days, _DAY_EVENTS)


def _upload_accounts(context: dg.AssetExecutionContext, instance: PipelineInstance, session, config) -> None:
    """A routed instance's upload: each ad account's events to that account, with its token, rate
    limiter and ledger rows; the metadata has the totals and lines per account."""
    targets = instance.targets(context)
    for key in context.partition_keys:
        days = [partition_day(key)]
        events = _stage_day_events(instance, session, days)

        def send(table, target, days=days):
            report = session.deliver(table, target, config, partition_days=days)
            accounting = session.delivery_accounting(
                table, target.ad_account_id, partition_days=days, test=target.test_mode
            )
            return report, accounting

        per_account = deliver_per_account(session.con, events, targets, send, partition_days=days)
        context.add_asset_metadata(accounts_delivery_metadata(per_account), partition_key=key)
