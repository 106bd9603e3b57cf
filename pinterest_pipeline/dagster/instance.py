"""What the asset and check builders of one pipeline instance share: its names, partitions, keys,
extract files and pool. Made by the factory from its arguments; nothing here reads the environment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    # A routed instance's ad accounts (`pinterest.accounts`), each with its API resource; empty: one
    # account, the `API` resource.
    accounts: tuple[str, ...] = ()

    @property
    def api_roles(self) -> list[str]:
        """The roles of the instance's Pinterest resources: `API`, or one `api_<account>` per account."""
        return [account_api_role(account) for account in self.accounts] or [API]

    def targets(self, context: Any) -> dict[str, Any]:
        """Ad account id -> its `PinterestTarget`, from the instance's Pinterest resources."""
        targets = [self.resource(context, role).target() for role in self.api_roles]
        return {target.ad_account_id: target for target in targets}

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


def account_api_role(ad_account_id: str) -> str:
    return f"{API}_{ad_account_id}"


@contextmanager
def user_errors_fail_without_retry() -> Iterator[None]:
    """Turn errors the user must fix into a `Failure` the retry policy does not repeat."""
    try:
        yield
    except PipelineError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
