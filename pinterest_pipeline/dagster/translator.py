"""The one place users customize the asset specs of a pipeline instance (keys, groups, owners, tags).

Modelled on dagster-sling's translator: the factory asks `get_asset_spec` once per asset, and then
wires the dependencies between the returned keys itself, so a changed key never breaks the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import dagster as dg

AssetRole = Literal["extract", "conversions", "upload"]

_DESCRIPTIONS = {
    "conversions": (
        "The day's Pinterest events, exactly as they will be sent (identifiers normalized and SHA-256 hashed"
        " inside DuckDB, event names mapped), and the rows that cannot be sent with a reason each."
    ),
    "upload": (
        "The day's events sent to the Pinterest API for Conversions through the delivery ledger: a re-run sends"
        " only what is not settled yet. Refuses to send a day whose blocking checks did not pass."
    ),
}
_KINDS = {"extract": {"duckdb", "sql"}, "conversions": {"duckdb", "sql"}, "upload": {"pinterest"}}


@dataclass(frozen=True)
class PinterestAssetProps:
    """What the factory knows of one asset when it asks for its spec.

    Args:
        role: `extract` (one per extract SQL file), `conversions` or `upload`.
        name: the asset's name without prefix (`extract_orders`, `pinterest_conversions`, ...).
        key_prefix: the instance's key prefix.
        group_name: the instance's group.
        sql_file: the extract's SQL file (extracts only).
    """

    role: AssetRole
    name: str
    key_prefix: tuple[str, ...]
    group_name: str
    sql_file: Path | None = None


@dataclass
class PinterestTranslator:
    """Turns `PinterestAssetProps` into an `AssetSpec`. Subclass it and override `get_asset_spec`.

    Examples:
        .. code-block:: python

            class OwnedTranslator(PinterestTranslator):
                def get_asset_spec(self, props):
                    spec = super().get_asset_spec(props)
                    return spec.replace_attributes(owners=["team:growth"])

            defs = build_pinterest_defs(..., translator=OwnedTranslator())
    """

    def get_asset_spec(self, props: PinterestAssetProps) -> dg.AssetSpec:
        if props.role == "extract":
            description = (
                f"Conversion rows of the day: {props.sql_file.name if props.sql_file else props.name} run on the"
                " warehouse (read-only) for the partition's window, stored in the pipeline database."
            )
        else:
            description = _DESCRIPTIONS[props.role]
        return dg.AssetSpec(
            key=dg.AssetKey([*props.key_prefix, props.name]),
            group_name=props.group_name,
            description=description,
            kinds=_KINDS[props.role],
        )
