"""Table and column names written into SQL text, where identifiers cannot be bound as parameters."""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """A DuckDB identifier literal (identifiers cannot be bound as parameters)."""
    return '"' + name.replace('"', '""') + '"'


def qualified_name(name: str) -> str:
    """A possibly schema- or database-qualified table name (`db.schema.table`) as identifiers."""
    return ".".join(quote_identifier(part) for part in name.split("."))
