"""Files that ship inside the package: the extract SQL, the macros' SQL and Pinterest's official JSON schemas."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

_PACKAGE = resources.files("pinterest_pipeline")


def sql_path(name: str) -> Path:
    """Path of `sql/<name>`: inside the installed wheel, or the repository's `sql/` in a checkout."""
    packaged = Path(str(_PACKAGE / "sql" / name))
    if packaged.exists():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "sql" / name
    if checkout.exists():
        return checkout
    raise FileNotFoundError(f"sql/{name} is not shipped with this installation")


def read_sql(name: str) -> str:
    return sql_path(name).read_text(encoding="utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """One of Pinterest's JSON schemas: `conversion_events_request`, `_response` or `_error`."""
    return json.loads((_PACKAGE / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))


def package_text(package: str, name: str) -> str:
    """The text of the file `name` shipped inside the Python package `package` (e.g. a module's
    `__package__`), read through `importlib.resources` so it works from a wheel or a zip."""
    return (resources.files(package) / name).read_text(encoding="utf-8")


def sql_template(package: str, name: str) -> str:
    """A `.sql` file of `package` without its opening comment block (the file's header: it
    documents the file and is no part of the first statement)."""
    lines = package_text(package, name).splitlines(keepends=True)
    while lines and (lines[0].startswith("--") or not lines[0].strip()):
        lines.pop(0)
    return "".join(lines)
