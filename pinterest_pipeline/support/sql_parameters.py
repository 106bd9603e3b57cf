"""Bound parameters a statement actually uses.

DuckDB refuses values for `$name` placeholders a statement does not hold, while the engine builds
one set of values per query family (the transform's builder, the ledger's scope, a check's
filters) and runs several statements from it: each statement takes the values it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\$(\w+)")


def used_parameters(sql: str, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The entries of `parameters` whose `$name` placeholder appears in `sql`."""
    named = set(_PLACEHOLDER.findall(sql))
    return {name: value for name, value in (parameters or {}).items() if name in named}
