"""Resources: one per external system the assets touch.

- `PinterestResource`: the Conversions API (ad account, token, test mode, limits);
- `WarehouseResource`: the company's warehouse, attached READ_ONLY and never written;
- `PipelineConfigResource`: the engine's typed `PipelineConfig` (TOML file + environment);
- `ClockResource`: the instant the transform and its `event_time_window` check measure ages from.

The pipeline's own database is dagster-duckdb's `DuckDBResource` (see `definitions.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from pinterest_pipeline.config import ConfigError, PipelineConfig, load_config
from pinterest_pipeline.delivery import PinterestTarget
from pinterest_pipeline.package_files import sql_path
from pinterest_pipeline.warehouse import WarehouseSource, extract_window

DEFAULT_API_URL = "https://api.pinterest.com"
# The concurrency pool of every step that opens the pipeline database: DuckDB admits one writing
# process per file, so `dagster.yaml` limits the pool to one step at a time across runs.
PIPELINE_DB_POOL = "pinterest_pipeline_db"


class PinterestResource(dg.ConfigurableResource):
    """The Pinterest API for Conversions of one ad account.

    The token is read from the environment through `dg.EnvVar`, so the UI and run config show the
    variable's name, never its value; it is also masked in this resource's repr.

    Examples:
        .. code-block:: python

            import dagster as dg
            from dagster_project.resources import PinterestResource

            pinterest = PinterestResource(
                ad_account_id=dg.EnvVar("PINTEREST_AD_ACCOUNT_ID"),
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
    # Unset limits keep the engine config's values (PINTEREST_PIPELINE_CHUNK_SIZE..., defaults 1000, 4, 5000).
    chunk_size: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Events per request, at most 1000; unset: the engine config's chunk_size.",
    )
    concurrency: int | None = Field(
        default=None, ge=1, le=64, description="Requests in flight at once; unset: the engine config's concurrency."
    )
    requests_per_minute: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Client-side rate limit per ad account (Pinterest allows 5,000 a minute); unset: the engine config's."
        ),
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

    def delivery_config(self, config: PipelineConfig) -> PipelineConfig:
        """`config` with the limits set on this resource, which win over the file and environment."""
        limits = {
            "chunk_size": self.chunk_size,
            "concurrency": self.concurrency,
            "requests_per_minute": self.requests_per_minute,
        }
        return config.model_copy(update={name: value for name, value in limits.items() if value is not None})


class WarehouseResource(dg.ConfigurableResource):
    """The company's warehouse as a DuckDB file, read by the extract SQL in `sql/`.

    It is ATTACHed READ_ONLY into the pipeline database's connection for the length of one extract:
    the pipeline never writes to the warehouse, and other readers keep working while it runs.
    (dagster-duckdb's `DuckDBResource` always opens read-write, hence this small resource.)
    """

    path: str = Field(description="Path of the warehouse DuckDB file.")

    def extract(
        self, con: duckdb.DuckDBPyConnection, name: str, start: datetime, end: datetime, table: str, *, temporary: bool = False
    ) -> int:
        """Run `sql/<name>.sql` for `[start, end)` into `table` of `con` (a TEMP table with
        `temporary`); returns its row count."""
        if not Path(self.path).is_file():
            raise ConfigError(f"warehouse file {self.path} does not exist (set PINTEREST_WAREHOUSE_PATH)")
        source = WarehouseSource(path=self.path)
        return extract_window(con, source, sql_path(f"{name}.sql"), start, end, table, temporary=temporary)


class PipelineConfigResource(dg.ConfigurableResource):
    """The engine's `PipelineConfig`: an optional TOML file, overridden by `PINTEREST_PIPELINE_*` variables."""

    config_file: str | None = Field(
        default=None,
        description="TOML file with pinterest_pipeline keys (taxonomy, default_country, max_event_age, ...).",
    )

    def load(self, partition_timezone: str) -> PipelineConfig:
        """The config for a run whose partitions are days in `partition_timezone`.

        The partitions definition decides what a day is; a config that names another time zone
        would file events under days the assets never read, so that is refused.
        """
        config = load_config(self.config_file)
        if "partition_timezone" in config.model_fields_set and config.partition_timezone != partition_timezone:
            raise ConfigError(
                f"invalid config key 'partition_timezone': {config.partition_timezone!r} differs from the"
                f" partitions' time zone {partition_timezone!r} (set PINTEREST_PIPELINE_PARTITION_TIMEZONE instead)"
            )
        return config.model_copy(update={"partition_timezone": partition_timezone})


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
        try:
            instant = datetime.fromisoformat(self.fixed_now)
        except ValueError:
            raise ConfigError(f"clock fixed_now is not an ISO-8601 instant: {self.fixed_now!r}") from None
        if instant.tzinfo is None:
            raise ConfigError(f"clock fixed_now needs a UTC offset, got {self.fixed_now!r}")
        return instant


@contextmanager
def pipeline_connection(pipeline_db: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the pipeline database, creating its directory on first use."""
    if pipeline_db.database != ":memory:":
        Path(pipeline_db.database).parent.mkdir(parents=True, exist_ok=True)
    with pipeline_db.get_connection() as con:
        # Steps log to Dagster, not to a terminal: DuckDB's progress bar would only garble the output.
        con.execute("SET enable_progress_bar = false")
        yield con
