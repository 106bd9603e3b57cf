"""A disk cache of the generated normalization macros, so a command does not derive them anew.

The macros' text is built from this Python's Unicode database, `phonenumbers` metadata and DuckDB's
own Unicode data (`normalize.sql`, filling in `macros.sql`), a noticeable share of a command that
transforms a million rows in a few seconds. The text depends only on the code and files that build
it and on those libraries, so it is stored under a key of their sources and versions and read back
by every later process. A missing, unreadable or unwritable cache only means the text
is built again; it never changes what is built.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from importlib import metadata, resources
from pathlib import Path

CACHE_DIR_ENV = "PINTEREST_PIPELINE_CACHE_DIR"

# The modules and files whose text decides the macro text; their sources are part of the key.
_SOURCE_MODULES = (
    "pinterest_pipeline.transform.normalize.sql",
    "pinterest_pipeline.transform.normalize.lookups",
    "pinterest_pipeline.transform.normalize.reference",
    "pinterest_pipeline.event_fields",
)
_SOURCE_FILES = ("macros.sql", "hash_macro.sql")  # beside this module
_LIBRARIES = ("duckdb", "phonenumbers", "pycountry")


def cache_dir() -> Path:
    """`PINTEREST_PIPELINE_CACHE_DIR`, else `$XDG_CACHE_HOME/pinterest-pipeline` or `~/.cache/...`."""
    configured = os.environ.get(CACHE_DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "pinterest-pipeline"


def cache_key() -> str:
    """A digest of everything the macro text is derived from."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version_info[:3]}|{unicodedata.unidata_version}".encode())
    for library in _LIBRARIES:
        digest.update(f"|{library}={metadata.version(library)}".encode())
    for module in _SOURCE_MODULES:
        digest.update(Path(sys.modules[module].__file__).read_bytes())
    for name in _SOURCE_FILES:
        digest.update((resources.files(__package__) / name).read_bytes())
    return digest.hexdigest()[:32]


def cached_statements(build: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
    """The statements `build()` returns, from the cache when it has them for this key."""
    path = cache_dir() / f"normalize-macros-{cache_key()}.json"
    try:
        statements = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(statements, list) and all(isinstance(statement, str) for statement in statements):
            return tuple(statements)
    except (OSError, ValueError):
        pass
    statements = build()
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside its place and renamed: a reader never sees half a file.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as out:
            temporary = out.name
            json.dump(list(statements), out)
        os.replace(temporary, path)
    except OSError:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
    return statements
