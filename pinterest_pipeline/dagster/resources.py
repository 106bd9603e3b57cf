"""Resources: one per external system the assets touch, bound per pipeline instance.

- `PinterestResource`: the Conversions API of one ad account (token through `dg.EnvVar`);
- `WarehouseResource`: the company's warehouse, read by the instance's extract SQL and never written;
- `PipelineStateResource`: the pipeline's own database (extracts, events, rejects, delivery ledger);
- `PipelineSettingsResource`: the engine's settings (taxonomy, default_country, max_event_age, ...);
- `ClockResource`: the instant the transform and its `event_time_window` check measure ages from.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from pydantic import Field

from pinterest_pipeline.config import ConfigError, PipelineConfig, build_config
from pinterest_pipeline.delivery import PinterestTarget
from pinterest_pipeline.delivery.target import DEFAULT_API_URL
from pinterest_pipeline.state import PipelineState, StateSession, open_state
from pinterest_pipeline.warehouse import WarehouseSource, extract_window

# How long a step waits for another process to release a DuckDB-file state (it admits one writing
# process at a time) before it fails; a pool limited to 1 avoids the wait altogether.
DEFAULT_LOCK_TIMEOUT_S = 600.0
# DuckDB's buffers on the state's connection. Its default (80% of RAM) lets one big day's step hold
# several GiB; with a limit DuckDB spills instead, and a step's memory stays bounded whatever the day's
# size (the Dagster day's peak is measured by benchmarks/dagster_day.py).
DEFAULT_STATE_MEMORY_LIMIT = "1GB"


class PinterestResource(dg.ConfigurableResource):
    """The Pinterest API for Conversions of one ad account.

    The token is read from the environment through `dg.EnvVar`, so the UI and run config show the
    variable's name, never its value; it is also masked in this resource's repr.

    Examples:
        .. code-block:: python

            import dagster as dg
            from pinterest_pipeline.dagster import PinterestResource

            pinterest = PinterestResource(
                ad_account_id="549755885175",
                access_token=dg.EnvVar("PINTEREST_ACCESS_TOKEN"),
                test_mode=True,
            )
    """

    ad_account_id: str = Field(description="Pinterest ad account id (digits) that receives the events.")
    access_token: str = Field(
        description=(
            "Conversion access token or OAuth token with ads:write. Pass dg.EnvVar('PINTEREST_ACCESS_TOKEN')"
            " so the value never appears in config or logs."
        )
    )
    test_mode: bool = Field(
        default=False,
        description=(
            "Send with ?test=true: Pinterest validates but records nothing. Test sends are kept apart in the"
            " delivery ledger and never count as delivered for production."
        ),
    )
    api_url: str = Field(
        default=DEFAULT_API_URL,
        description="Base URL of the API; point it at `pinterest-pipeline fake-api` to rehearse locally.",
    )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, ("********" if name == "access_token" else value)

    def target(self) -> PinterestTarget:
        return PinterestTarget(
            ad_account_id=self.ad_account_id,
            access_token=self.access_token,
            api_url=self.api_url,
            test_mode=self.test_mode,
        )


class WarehouseResource(dg.ConfigurableResource):
    """The company's warehouse, read by the instance's extract SQL files and never written.

    A DuckDB file or anything DuckDB attaches is ATTACHed READ_ONLY as `warehouse` into the pipeline
    database's connection for one extract; files are read by the SQL itself; an ADBC source runs the
    SQL in the warehouse, read-only, and streams the rows in as Arrow (docs/warehouses.md).
    """

    path: str | None = Field(default=None, description="A DuckDB file, attached READ_ONLY as `warehouse`.")
    attach: str | None = Field(default=None, description="What DuckDB ATTACHes READ_ONLY as `warehouse`.")
    setup: list[str] = Field(default_factory=list, description="DuckDB statements run before every extract.")
    adbc_driver: str | None = Field(default=None, description="ADBC driver: postgresql, sqlite, snowflake, ...")
    uri_env: str | None = Field(default=None, description="NAME of the variable holding the ADBC URI.")

    def source(self) -> WarehouseSource:
        return warehouse_source(self.path, self.attach, self.setup, self.adbc_driver, self.uri_env)

    def extract(
        self,
        con: duckdb.DuckDBPyConnection,
        sql_file: Path,
        start: datetime,
        end: datetime,
        table: str,
        *,
        temporary: bool = False,
    ) -> int:
        """Run `sql_file` for `[start, end)` into `table` of `con`; returns its row count."""
        source = self.source()
        if source.path is not None and not Path(source.path).is_file():
            raise ConfigError(f"warehouse file {source.path} does not exist (warehouse.path)")
        return extract_window(con, source, sql_file, start, end, table, temporary=temporary)


def warehouse_source(
    path: str | None, attach: str | None, setup: list[str], adbc_driver: str | None, uri_env: str | None
) -> WarehouseSource:
    """The engine's `WarehouseSource` of these settings; a bad combination fails naming the key."""
    given = {"path": path, "attach": attach, "setup": list(setup), "adbc_driver": adbc_driver, "uri_env": uri_env}
    return WarehouseSource.parse({key: value for key, value in given.items() if value not in (None, [])})


class PipelineStateResource(dg.ConfigurableResource):
    """The pipeline's own state: extracts, events, rejects and the delivery ledger of one instance.

    `state` is a path (a DuckDB file: the embedded default, one host) or a `postgresql://` URL
    (production: every run, container and machine of a deployment shares it). A DuckDB file admits
    one writing process at a time, so steps of parallel runs wait for it, up to `lock_timeout_s`;
    limiting the instance's pool to one step (`dagster instance concurrency set <pool> 1`) queues
    them in Dagster instead.
    """

    state: str = Field(description="A DuckDB file path (created on first use) or a postgresql:// URL.")
    lock_timeout_s: float = Field(
        default=DEFAULT_LOCK_TIMEOUT_S,
        ge=0,
        description="Seconds to wait for another process to release a DuckDB file before failing.",
    )
    memory_limit: str = Field(
        default=DEFAULT_STATE_MEMORY_LIMIT,
        description=(
            "DuckDB's memory limit on the pipeline database's connection (e.g. '1GB', '4GB'); past it, DuckDB"
            " spills into a temporary directory beside the file. Bounds a step's memory for any day size."
        ),
    )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, (self.store().describe() if name == "state" else value)

    def store(self) -> PipelineState:
        return open_state(self.state, lock_wait_s=self.lock_timeout_s)

    @contextmanager
    def session(self) -> Iterator[StateSession]:
        """A session on the state; its `con` is the DuckDB connection the step computes in, its memory
        bounded by `memory_limit` (DuckDB spills past it)."""
        with self.store().session() as session:
            session.con.execute("SET memory_limit = $limit", {"limit": self.memory_limit})
            yield session


class PipelineSettingsResource(dg.ConfigurableResource):
    """The engine's settings (any key of `PipelineConfig`: taxonomy, default_country, max_event_age,
    chunk_size, ...), validated when the definitions load and again when a run reads them."""

    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Engine settings by key, e.g. {taxonomy: segment, default_country: us, max_event_age: 7d}.",
    )

    def load(self, partition_timezone: str) -> PipelineConfig:
        """The config for a run whose partitions are days in `partition_timezone`."""
        return settings_config(self.settings, partition_timezone)


def settings_config(settings: dict[str, Any], partition_timezone: str) -> PipelineConfig:
    """Validate `settings` into the engine's config, naming a bad key as `settings.<key>`.

    The partitions definition decides what a day is: a setting naming another time zone would file
    events under days the assets never read, so that is refused.
    """
    if "partition_timezone" in settings and settings["partition_timezone"] != partition_timezone:
        raise ConfigError(
            f"invalid setting 'settings.partition_timezone': {settings['partition_timezone']!r} differs from the"
            f" partitions' time zone {partition_timezone!r} (set partitions.timezone instead)"
        )
    try:
        return build_config(**{**settings, "partition_timezone": partition_timezone})
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("invalid config key '", "invalid setting 'settings.", 1)) from None


class ClockResource(dg.ConfigurableResource):
    """The run's clock. Ages (`max_event_age`, `max_future_skew`) are measured from it; the
    transform records the instant it used, and the `event_time_window` check re-reads that instant,
    so a check never fails because time passed between the two steps."""

    fixed_now: str | None = Field(
        default=None,
        description="ISO-8601 instant with offset to use instead of the wall clock (reproducible runs, tests).",
    )

    def now(self) -> datetime:
        if self.fixed_now is None:
            return datetime.now(timezone.utc)
        return parse_instant(self.fixed_now)


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant with a UTC offset; `ConfigError` otherwise."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"clock fixed_now is not an ISO-8601 instant: {text!r}") from None
    if instant.tzinfo is None:
        raise ConfigError(f"clock fixed_now needs a UTC offset, got {text!r}")
    return instant
