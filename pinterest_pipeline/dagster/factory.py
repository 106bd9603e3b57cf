"""`build_pinterest_defs`: the definitions of one pipeline instance, for Python users and for the component.

Everything is an argument: the factory reads no environment variable and sets no executor, so two
calls with different `key_prefix`es merge into one `Definitions` (asset and check keys, job,
schedule and resource keys all derive from the prefix; each instance binds its own resources).
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dagster as dg

from pinterest_pipeline.config import ConfigError
from pinterest_pipeline.dagster.assets import build_conversions_asset, build_extract_asset, build_upload_asset
from pinterest_pipeline.dagster.checks import blocking_check_keys, build_conversion_checks, build_upload_check
from pinterest_pipeline.dagster.instance import (
    API,
    CLOCK,
    SETTINGS,
    STATE,
    WAREHOUSE,
    PipelineInstance,
    account_api_role,
)
from pinterest_pipeline.dagster.names import InstanceNames
from pinterest_pipeline.dagster.partitions import build_daily_partitions
from pinterest_pipeline.dagster.resources import (
    ClockResource,
    PinterestResource,
    PipelineSettingsResource,
    PipelineStateResource,
    WarehouseResource,
    parse_instant,
    settings_config,
    warehouse_source,
)
from pinterest_pipeline.dagster.settings import (
    DEFAULT_POOL,
    DEFAULT_STATE,
    PartitionsSettings,
    PinterestApiSettings,
    ScheduleSettings,
    WarehouseSettings,
    upload_pool_name,
)
from pinterest_pipeline.dagster.translator import PinterestAssetProps, PinterestTranslator
from pinterest_pipeline.pipeline_tables import EVENTS_TABLE, REJECTS_TABLE, TRANSFORMS_TABLE
from pinterest_pipeline.state.postgres_connection import is_postgres_url

CONVERSIONS = "pinterest_conversions"
UPLOAD = "pinterest_upload"
# Tables of the state an extract must not be named after.
_RESERVED_TABLES = {EVENTS_TABLE, REJECTS_TABLE, TRANSFORMS_TABLE, "delivery_ledger", CONVERSIONS, UPLOAD}


def build_pinterest_defs(
    *,
    extracts: Mapping[str, str | Path],
    warehouse: WarehouseSettings | Mapping[str, Any],
    pinterest: PinterestApiSettings | Mapping[str, Any],
    partitions: PartitionsSettings | Mapping[str, Any],
    key_prefix: str | Sequence[str] | None = None,
    group_name: str = "pinterest",
    state: str | Path = DEFAULT_STATE,
    settings: Mapping[str, Any] | None = None,
    schedule: ScheduleSettings | Mapping[str, Any] | None = None,
    pool: str | None = None,
    fixed_now: str | None = None,
    translator: PinterestTranslator | None = None,
    base_dir: str | Path | None = None,
) -> dg.Definitions:
    """The assets, checks, job, schedule and resources that send one warehouse's conversions to one ad account.

    Args:
        extracts: asset name -> extract SQL file (DuckDB SQL over the attached `warehouse`, the window as
            `$window_start`/`$window_end`); relative paths resolve against `base_dir`. One or more.
        warehouse: the warehouse the SQL reads: `{"path": "warehouse.duckdb"}` (a DuckDB file), `{}` (the SQL
            reads Parquet/CSV files itself), `{"attach": ..., "setup": [...]}`, or
            `{"adbc_driver": "postgresql", "uri_env": "WAREHOUSE_URI"}` (docs/warehouses.md).
        pinterest: ad account, `access_token_env` (the NAME of the token's variable), `api_url`, `test_mode`;
            or, for rows routed to several accounts, `accounts` (ad account id -> NAME of its token's variable,
            one Pinterest resource each) instead of `ad_account_id` (docs/accounts.md).
        partitions: `{"start_date": "2026-11-01", "timezone": "UTC"}`.
        key_prefix: prefix of every asset key (e.g. `"pinterest_us"`); names the job, schedule and resources.
        group_name: the assets' group.
        state: the pipeline's own state (extracts, events, rejects, delivery ledger): a DuckDB file path,
            or a `postgresql://` URL shared by every run, container and machine (docs/state.md).
        settings: engine settings (taxonomy, default_country, max_event_age, chunk_size, ...), checked now.
        schedule: `{"hour_of_day": 2, "minute_of_hour": 0}` for a daily schedule of yesterday; None for none.
        pool: the concurrency pool. With a DuckDB-file state every step that opens it is in it (default
            `pinterest_pipeline_db`); with a PostgreSQL state only the upload is (default
            `pinterest_ad_account_<id>`, one per ad account; a routed instance's one pool names its accounts
            joined by `_`), and extracts and transforms run side by side.
        fixed_now: an ISO-8601 instant to use instead of the wall clock (reproducible runs).
        translator: overrides asset keys, groups, owners, tags (`PinterestTranslator.get_asset_spec`).
        base_dir: the directory relative extract paths, `state` and `warehouse.path` are relative to
            (default: the current directory).

    Returns:
        Definitions with no executor, mergeable with others (`dg.Definitions.merge`).

    Examples:
        .. code-block:: python

            from pinterest_pipeline.dagster import build_pinterest_defs

            defs = build_pinterest_defs(
                key_prefix="pinterest_us",
                extracts={"extract_orders": "sql/extract_orders.sql"},
                warehouse={"path": "warehouse.duckdb"},
                pinterest={"ad_account_id": "549755885175", "access_token_env": "PINTEREST_ACCESS_TOKEN"},
                partitions={"start_date": "2026-11-01"},
                settings={"default_country": "us"},
            )
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    api = _model(PinterestApiSettings, pinterest, "pinterest")
    days = _model(PartitionsSettings, partitions, "partitions")
    source = _model(WarehouseSettings, warehouse, "warehouse")
    warehouse_source(source.path, source.attach, source.setup, source.adbc_driver, source.uri_env)
    when = _model(ScheduleSettings, schedule, "schedule") if schedule is not None else None
    names = InstanceNames.of(key_prefix)
    partitions_def = build_daily_partitions(days.start_date, days.timezone)
    settings_config(dict(settings or {}), days.timezone)  # fails now, naming the key, not in a run
    if fixed_now is not None:
        parse_instant(fixed_now)
    extract_files = _extract_files(extracts, base)
    shared_state = is_postgres_url(str(state))
    if shared_state and urlsplit(str(state)).password:
        # Resource config is shown in the UI and stored with every run: the password goes elsewhere.
        raise ConfigError(
            "invalid state: the postgresql:// URL holds a password, which the Dagster UI would show; give"
            " postgresql://user@host:port/database and the password in PGPASSWORD (or ~/.pgpass)"
        )

    translator = translator or PinterestTranslator()

    def spec(role: str, name: str, sql_file: Path | None = None) -> dg.AssetSpec:
        props = PinterestAssetProps(role, name, names.key_prefix, group_name, sql_file)  # type: ignore[arg-type]
        return translator.get_asset_spec(props)

    instance = PipelineInstance(
        names=names,
        partitions=partitions_def,
        extract_files=extract_files,
        extract_specs={name: spec("extract", name, path) for name, path in extract_files.items()},
        conversions_spec=spec("conversions", CONVERSIONS),
        upload_spec=spec("upload", UPLOAD),
        pool=None if shared_state else (pool or DEFAULT_POOL),
        upload_pool=(pool or upload_pool_name("_".join(api.token_envs.keys())))
        if shared_state
        else (pool or DEFAULT_POOL),
        accounts=tuple(api.accounts or ()),
    )
    assets = [build_extract_asset(instance, name) for name in extract_files]
    assets += [
        build_conversions_asset(instance),
        build_upload_asset(instance, blocking_check_keys(instance.conversions_spec.key)),
    ]
    job = dg.define_asset_job(
        name=names.job,
        selection=dg.AssetSelection.assets(*assets),
        description="Extract, transform, check and send one day of conversions.",
    )
    schedules = []
    if when is not None:
        # A partitioned job's schedule requests the last complete partition: at 02:00 in the partitions'
        # time zone it sends yesterday, leaving late-landing warehouse rows two hours to arrive.
        schedules.append(
            dg.build_schedule_from_partitioned_job(
                job,
                name=names.schedule,
                hour_of_day=when.hour_of_day,
                minute_of_hour=when.minute_of_hour,
                default_status=dg.DefaultScheduleStatus.RUNNING if when.running else dg.DefaultScheduleStatus.STOPPED,
                description="Sends yesterday's conversions (in the partitions' time zone) every day.",
            )
        )
    resources = {
        names.resource_key(API if api.accounts is None else account_api_role(account)): PinterestResource(
            ad_account_id=account,
            access_token=dg.EnvVar(token_env),
            api_url=api.api_url,
            test_mode=api.test_mode,
        )
        for account, token_env in api.token_envs.items()
    }
    resources |= {
        names.resource_key(WAREHOUSE): WarehouseResource(
            path=str(_under(base, source.path)) if source.path else None,
            attach=source.attach,
            setup=source.setup,
            adbc_driver=source.adbc_driver,
            uri_env=source.uri_env,
        ),
        names.resource_key(STATE): PipelineStateResource(
            state=str(state) if shared_state else str(_under(base, state))
        ),
        names.resource_key(SETTINGS): PipelineSettingsResource(settings=dict(settings or {})),
        names.resource_key(CLOCK): ClockResource(fixed_now=fixed_now),
    }
    return dg.Definitions(
        assets=assets,
        asset_checks=[build_conversion_checks(instance), build_upload_check(instance)],
        jobs=[job],
        schedules=schedules,
        resources=resources,
    )


def _model(model: type[dg.Model], value: Any, key: str) -> Any:
    """`value` as `model`, a `ConfigError` naming `key.<field>` when it does not fit."""
    from pydantic import ValidationError

    # Validated again also when it is a model already: the component's templates are rendered after
    # `dg` first validated the YAML.
    if isinstance(value, model):
        value = value.model_dump()
    try:
        return model.model_validate(dict(value))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join([key, *(str(part) for part in first["loc"])])
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid {where}: {message}") from None
    except (TypeError, ValueError):
        raise ConfigError(f"invalid {key}: expected a mapping, got {value!r}") from None


def _extract_files(extracts: Mapping[str, str | Path], base: Path) -> dict[str, Path]:
    if not extracts:
        raise ConfigError("invalid extracts: give at least one extract name -> SQL file")
    files = {}
    for name, path in extracts.items():
        if not name.isidentifier() or keyword.iskeyword(name) or name.lower() in _RESERVED_TABLES:
            raise ConfigError(
                f"invalid extracts.{name}: an extract name must be a lowercase identifier other than"
                f" {', '.join(sorted(_RESERVED_TABLES))}"
            )
        sql_file = _under(base, path)
        if not sql_file.is_file():
            raise ConfigError(f"invalid extracts.{name}: SQL file {sql_file} does not exist")
        files[name] = sql_file
    return files


def _under(base: Path, path: str | Path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() or str(path) == ":memory:" else base / path
