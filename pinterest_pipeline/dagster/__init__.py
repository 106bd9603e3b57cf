"""The Dagster integration: embed the pipeline in any Dagster code location.

- `PinterestConversionsComponent`: the `dg` component (`dg scaffold defs
  pinterest_pipeline.dagster.PinterestConversionsComponent NAME`), configured in `defs.yaml`;
- `build_pinterest_defs(...)`: the same definitions for Python users, every setting an argument;
- `PinterestTranslator`: the one override point for asset specs;
- the resources, should you bind your own.

This is the only part of `pinterest_pipeline` that imports Dagster. Importing it has no effect on
the process (no environment reads, no warning filters, no module-level definitions).
"""

from pinterest_pipeline.dagster.component import PinterestConversionsComponent
from pinterest_pipeline.dagster.factory import build_pinterest_defs
from pinterest_pipeline.dagster.resources import (
    ClockResource,
    PinterestResource,
    PipelineSettingsResource,
    PipelineStateResource,
    WarehouseResource,
)
from pinterest_pipeline.dagster.settings import (
    PartitionsSettings,
    PinterestApiSettings,
    ScheduleSettings,
    WarehouseSettings,
)
from pinterest_pipeline.dagster.translator import PinterestAssetProps, PinterestTranslator

__all__ = [
    "ClockResource",
    "PartitionsSettings",
    "PinterestApiSettings",
    "PinterestAssetProps",
    "PinterestConversionsComponent",
    "PinterestResource",
    "PinterestTranslator",
    "PipelineSettingsResource",
    "PipelineStateResource",
    "ScheduleSettings",
    "WarehouseResource",
    "WarehouseSettings",
    "build_pinterest_defs",
]
