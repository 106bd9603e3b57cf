"""What every stage of the generated queries reads: the source's columns, the config, the run's
clock and the bound parameters, plus the helpers that write names and literals into SQL text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.support.sql_identifiers import quote_identifier
from pinterest_pipeline.transform.contract import SourceColumns


@dataclass
class Parameters:
    """Bound values of the generated query, by name; `bind` returns the placeholder."""

    values: dict[str, Any] = field(default_factory=dict)

    def bind(self, name: str, value: Any, sql_type: str | None = None) -> str:
        self.values[name] = value
        return f"CAST(${name} AS {sql_type})" if sql_type else f"${name}"

    def bind_code_set(self, name: str, codes: list[str]) -> str:
        """A set of codes to test membership in with `map_contains`: a MAP of the codes to
        themselves is looked up by hash, where `list_contains` on a long list is planned as a join
        per row and costs many times as much."""
        return f"MAP({self.bind(name, codes, 'VARCHAR[]')}, ${name})"


@dataclass
class QueryContext:
    """One query being generated: the stages' functions take it as `q` and bind values into
    `q.params`, which the query is executed with."""

    columns: SourceColumns
    config: PipelineConfig
    now: datetime
    params: Parameters = field(default_factory=Parameters)

    def has(self, name: str) -> bool:
        return self.columns.has(name)

    def kind(self, name: str) -> str:
        return self.columns.kinds[name]

    @property
    def routed(self) -> bool:
        """Whether rows carry an ad account: from an `ad_account_id` column or the `routing` config."""
        return self.has("ad_account_id") or self.config.routing is not None


def identifier(name: str) -> str:
    """A contract column's name as a SQL identifier."""
    return quote_identifier(name)


def sql_string(text: str) -> str:
    """A SQL string literal of fixed text (never of input or configured values: those are bound)."""
    return "'" + text.replace("'", "''") + "'"
