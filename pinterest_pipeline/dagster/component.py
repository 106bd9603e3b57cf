"""`PinterestConversionsComponent`: the pipeline as a `dg` component, configured in `defs.yaml`.

Its `build_defs` calls `build_pinterest_defs`, the factory Python users call. Extract SQL paths are
relative to the component's folder (beside `defs.yaml`); `state` and `warehouse.path`, when
relative, to the project root. Subclass it and override `get_asset_spec` to change keys, groups,
owners or tags in code, or use `translation` in YAML.
"""

from dataclasses import dataclass, field
from typing import Annotated, Any

import dagster as dg
from dagster.components.utils.translation import TranslationFn, TranslationFnResolver

from pinterest_pipeline.dagster.factory import build_pinterest_defs
from pinterest_pipeline.dagster.scaffolder import PinterestComponentScaffolder
from pinterest_pipeline.dagster.settings import (
    DEFAULT_STATE,
    PartitionsSettings,
    PinterestApiSettings,
    ScheduleSettings,
    WarehouseSettings,
)
from pinterest_pipeline.dagster.translator import PinterestAssetProps, PinterestTranslator


@dg.scaffold_with(PinterestComponentScaffolder)
@dataclass
class PinterestConversionsComponent(dg.Component, dg.Resolvable):
    """Send a warehouse's conversions to the Pinterest API for Conversions: extract assets (one per
    SQL file), `pinterest_conversions` (normalized, hashed events, checked) and `pinterest_upload`
    (exactly once, through a delivery ledger), on daily partitions.

    To get started, run:

    ``dg scaffold defs pinterest_pipeline.dagster.PinterestConversionsComponent pinterest_us``

    which writes `defs.yaml` and the two SQL templates `extract_orders.sql` and `extract_events.sql`.
    """

    extracts: dict[str, str]
    warehouse: WarehouseSettings
    pinterest: PinterestApiSettings
    partitions: PartitionsSettings
    key_prefix: list[str] | None = None
    group_name: str = "pinterest"
    state: str = DEFAULT_STATE
    settings: dict[str, Any] = field(default_factory=dict)
    schedule: ScheduleSettings | None = None
    pool: str | None = None
    fixed_now: str | None = None
    translation: (
        Annotated[
            TranslationFn[PinterestAssetProps],
            TranslationFnResolver(template_vars_for_translation_fn=lambda props: {"props": props}),
        ]
        | None
    ) = None

    def get_asset_spec(self, props: PinterestAssetProps) -> dg.AssetSpec:
        """The spec of one asset; override in a subclass to change keys, groups, owners, tags."""
        spec = PinterestTranslator().get_asset_spec(props)
        return self.translation(spec, props) if self.translation else spec

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        component = self

        class _Translator(PinterestTranslator):
            def get_asset_spec(self, props: PinterestAssetProps) -> dg.AssetSpec:
                return component.get_asset_spec(props)

        # SQL files sit beside defs.yaml; state and warehouse paths are relative to the project root.
        extracts = {name: str(context.path / path) for name, path in self.extracts.items()}
        return build_pinterest_defs(
            extracts=extracts,
            warehouse=self.warehouse,
            pinterest=self.pinterest,
            partitions=self.partitions,
            key_prefix=self.key_prefix,
            group_name=self.group_name,
            state=self.state,
            settings=self.settings,
            schedule=self.schedule,
            pool=self.pool,
            fixed_now=self.fixed_now,
            translator=_Translator(),
            base_dir=context.project_root,
        )
