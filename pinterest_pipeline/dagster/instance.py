"""What the asset and check builders of one pipeline instance share: its names, partitions, keys,
extract files and pool. Made by the factory from its arguments; nothing here reads the environment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from pinterest_pipeline.dagster.names import InstanceNames
from pinterest_pipeline.errors import PipelineError

CRASH_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)

# Resource roles; each instance binds its own resource of each under `names.resource_key(role)`.
API = "api"
WAREHOUSE = "warehouse"
STATE = "state"
SETTINGS = "settings"
CLOCK = "clock"


@dataclass(frozen=True)
class PipelineInstance:
    names: InstanceNames
    partitions: dg.DailyPartitionsDefinition
    extract_files: dict[str, Path]  # extract asset name (= its table in the state) -> SQL file
    extract_specs: dict[str, dg.AssetSpec]  # extract asset name -> spec, as the translator made it
    conversions_spec: dg.AssetSpec
    upload_spec: dg.AssetSpec
    pool: str | None  # of the steps that read or write the state
    upload_pool: str | None  # of the upload (and its check)
    extra_tags: dict[str, str] = field(default_factory=dict)

    @property
    def extract_tables(self) -> list[str]:
        return list(self.extract_files)

    def resource_key(self, role: str) -> str:
        return self.names.resource_key(role)

    def resource(self, context: Any, role: str) -> Any:
        return getattr(context.resources, self.resource_key(role))

    @property
    def timezone(self) -> str:
        return self.partitions.timezone or "UTC"


@contextmanager
def user_errors_fail_without_retry() -> Iterator[None]:
    """Turn errors the user must fix into a `Failure` the retry policy does not repeat."""
    try:
        yield
    except PipelineError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
