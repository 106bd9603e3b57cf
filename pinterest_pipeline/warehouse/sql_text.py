"""Reading extract SQL as text: where the window placeholders and `${NAME}` references are.

Every extract file, whatever its dialect, writes the window as `$window_start` and `$window_end`
(docs/warehouses.md). A DuckDB source binds them by name; an ADBC driver wants positional placeholders
(`$1` for PostgreSQL, `?` for most others), so they are rewritten. Only placeholders in the SQL
itself count: the same words inside a string literal, a quoted identifier or a comment are left
alone, so a comment that explains the window does not become a parameter.

The scanner knows the quoting all these dialects share: '...' strings ('' inside), E'...' strings
(backslash escapes), "..." and `...` identifiers, -- and /* */ comments, and PostgreSQL's
$tag$...$tag$ strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Literal

WINDOW_PARAMETERS = ("window_start", "window_end")

_TOKENS = re.compile(
    r"""
      (?P<comment> --[^\n]* | /\*.*?\*/ )
    | (?P<escaped_string> (?<![A-Za-z0-9_])[eE]'(?:[^'\\]|\\.|'')*' )
    | (?P<string> '(?:[^']|'')*' )
    | (?P<quoted_identifier> "(?:[^"]|"")*" | `[^`]*` )
    | (?P<dollar_string> \$(?P<tag>[A-Za-z_][A-Za-z0-9_]*|)\$.*?\$(?P=tag)\$ )
    | (?P<window> \$(?P<name>window_start|window_end)(?![A-Za-z0-9_$]) )
    | (?P<env> \$\{(?P<variable>[A-Za-z_][A-Za-z0-9_]*)\} )
    """,
    re.DOTALL | re.VERBOSE,
)

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

Paramstyle = Literal["numbered", "qmark"]


def window_parameters_used(sql: str) -> list[str]:
    """The window parameters `sql` refers to, in order of first use (for binding by name)."""
    used: list[str] = []
    for match in _TOKENS.finditer(sql):
        name = match.group("name")
        if name and name not in used:
            used.append(name)
    return used


def rewrite_window_placeholders(sql: str, paramstyle: Paramstyle) -> tuple[str, list[str]]:
    """`sql` with `$window_start`/`$window_end` as positional placeholders, and the parameter
    names to bind in order.

    `numbered` gives each name one number, in order of first use (`$1`, `$2`), so a name used
    twice is bound once; `qmark` writes `?` for every occurrence and binds in occurrence order.
    """
    order: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group("name")
        if paramstyle == "qmark":
            order.append(name)
            return "?"
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _replace(sql, window=placeholder), order


class UnsetVariable(LookupError):
    """A `${NAME}` refers to an environment variable that is not set."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def expand_environment(statement: str, values: Mapping[str, str]) -> str:
    """`statement` with each `${NAME}` replaced by `values[NAME]` as SQL text that can hold nothing but
    that value: inside a string literal the value's quotes are doubled, elsewhere it becomes a
    quoted string literal of its own. Raises `UnsetVariable` for a name not in `values`.
    """

    def value_of(name: str) -> str:
        if name not in values:
            raise UnsetVariable(name)
        return values[name]

    def in_literal(match: re.Match[str]) -> str:
        backslashes_escape = match.lastgroup == "escaped_string"

        def quoted(reference: re.Match[str]) -> str:
            value = value_of(reference.group(1))
            return (value.replace("\\", "\\\\") if backslashes_escape else value).replace("'", "''")

        return _ENV_REFERENCE.sub(quoted, match.group(0))

    def as_literal(match: re.Match[str]) -> str:
        return "'" + value_of(match.group("variable")).replace("'", "''") + "'"

    return _replace(statement, string=in_literal, escaped_string=in_literal, env=as_literal)


def expand_in_text(text: str, values: Mapping[str, str]) -> str:
    """`text` (a plain string such as an attach target, not SQL) with each `${NAME}` replaced by
    the variable's value as it is. Raises `UnsetVariable` for a name not in `values`."""

    def value_of(reference: re.Match[str]) -> str:
        if reference.group(1) not in values:
            raise UnsetVariable(reference.group(1))
        return values[reference.group(1)]

    return _ENV_REFERENCE.sub(value_of, text)


def environment_references(text: str) -> list[str]:
    """The `${NAME}` names anywhere in `text`."""
    return _ENV_REFERENCE.findall(text)


def _replace(sql: str, **handlers: Callable[[re.Match[str]], str]) -> str:
    """`sql` with the tokens of the kinds in `handlers` replaced by what their handler returns."""

    def substitute(match: re.Match[str]) -> str:
        handler = handlers.get(match.lastgroup or "")
        return handler(match) if handler else match.group(0)

    return _TOKENS.sub(substitute, sql)
