"""The transform stage: contract rows -> Pinterest events and rejects, in DuckDB.

- `sources`: register a file, table or query as the source view; `contract`: which columns a
  source may have and of which types;
- `event_sql`: the generated queries (fields, reject rules, event JSON), reading the macros of
  `normalize` (identity normalization and hashing), `event_time` and `payload` (JSON pieces);
- `tables`: run a transform into the events and rejects tables (what the Dagster assets and the
  delivery read); `ndjson_output`: stream it into NDJSON files instead (the CLI).

See docs/architecture.md for the data flow and docs/rules.md for what the rules are.
"""

from pinterest_pipeline.transform.tables import (
    CheckedRows,
    TransformResult,
    check_rows,
    install_transform_macros,
    transform,
)

__all__ = ["CheckedRows", "TransformResult", "check_rows", "install_transform_macros", "transform"]
