"""DuckDB macros that turn column values into pieces of the Pinterest event JSON (docs/rules.md#event-level-rules).

The event object is assembled by string concatenation of `"key":value` fragments, each NULL when
its value is absent, joined with `concat_ws` (which skips NULLs): so a NULL value never becomes a
`null` key, and an object with no fragments is left out. Amounts are plain decimal strings
(`2000`, `27.5`), never exponents, `nan` or `inf`.
"""

from __future__ import annotations

from pinterest_pipeline.support.package_files import package_text

# The macros' text, in `payload_macros.sql` beside this module; run as one script.
PAYLOAD_MACROS = package_text(__package__, "payload_macros.sql")
