"""The names one pipeline instance gives its definitions, all derived from its `key_prefix`.

Several instances (one per ad account, brand or country) live in one code location, so nothing an
instance defines may collide with another's: asset keys carry the prefix (check keys follow, as a
check key is its asset's key plus the check name), and the job, the schedule and the resource keys
are named after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from pinterest_pipeline.config import ConfigError

DEFAULT_NAME = "pinterest"
# Dagster names (jobs, schedules, resource keys) are Python-identifier-like.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class InstanceNames:
    """Keys and names of one instance. `key_prefix` may be empty (a single unprefixed instance)."""

    key_prefix: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for part in self.key_prefix:
            if not _NAME.fullmatch(part):
                raise ConfigError(
                    f"invalid key_prefix {list(self.key_prefix)!r}: {part!r} is not a name (letters, digits, _)"
                )

    @classmethod
    def of(cls, key_prefix: str | Sequence[str] | None) -> InstanceNames:
        if key_prefix is None:
            return cls()
        return cls((key_prefix,) if isinstance(key_prefix, str) else tuple(key_prefix))

    @property
    def name(self) -> str:
        """The instance's name: its prefix joined with `_`, or `pinterest` without one."""
        return "_".join(self.key_prefix) or DEFAULT_NAME

    def asset_key(self, asset_name: str) -> dg.AssetKey:
        return dg.AssetKey([*self.key_prefix, asset_name])

    @property
    def job(self) -> str:
        return f"{self.name}_daily"

    @property
    def schedule(self) -> str:
        return f"{self.name}_daily_schedule"

    def resource_key(self, role: str) -> str:
        """`pinterest_us__api`, `pinterest_us__state`, ...: one resource per system per instance."""
        return f"{self.name}__{role}"
