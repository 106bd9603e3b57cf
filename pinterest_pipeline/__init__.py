"""pinterest-pipeline: warehouse conversions -> Pinterest API for Conversions.

The engine: configuration, event taxonomy, normalization and hashing in DuckDB SQL, payload
building, delivery with a ledger, a local fake of the API and the CLI. It never imports Dagster;
`pinterest_pipeline.dagster` is the Dagster integration on top, the only part that imports Dagster.
docs/architecture.md says what each folder is and how a day's data flows through them.
"""

from pinterest_pipeline.config import ConfigError, PipelineConfig, build_config, load_config
from pinterest_pipeline.errors import InputError, PipelineError

__all__ = ["ConfigError", "InputError", "PipelineConfig", "PipelineError", "build_config", "load_config"]
__version__ = "0.1.0"
