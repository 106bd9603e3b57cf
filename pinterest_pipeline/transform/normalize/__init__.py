"""Identity normalization and hashing (docs/rules.md#identity-normalization).

`reference` holds the rules in plain Python; `sql` installs the DuckDB macros that apply the same
rules inside queries, byte for byte; `lookups` holds the tables both read.
"""

from pinterest_pipeline.transform.normalize.sql import install_normalize_macros

__all__ = ["install_normalize_macros"]
