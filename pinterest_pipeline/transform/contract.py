"""The conversion source contract (docs/rules.md#the-source-contract): which columns a source may have, of which types.

Columns are matched by name (case-insensitively). A column that is not in the contract is not read,
but it is never ignored silently: `SourceColumns.ignored` lists it, with the contract column it was
probably meant to be, and the transform reports the list. A source is checked once, before any row
is read, so that a missing required column or a column of an unusable type fails with one line that
names the source and the column.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import duckdb

from pinterest_pipeline.errors import InputError, first_line
from pinterest_pipeline.event_fields import APP_DEVICE_FIELDS

# Kinds of DuckDB column types, as far as the transform cares.
TEXT = "text"  # VARCHAR, JSON
INTEGER = "integer"  # any signed or unsigned integer
DECIMAL = "decimal"  # exact: prints without an exponent
FRACTIONAL = "fractional"  # FLOAT, DOUBLE
BOOLEAN = "boolean"
TIMESTAMP = "timestamp"  # naive: TIMESTAMP, TIMESTAMP_S/_MS/_NS
TIMESTAMPTZ = "timestamptz"
DATE = "date"
OTHER_SCALAR = "other_scalar"  # TIME, UUID, INTERVAL, BLOB...: usable where anything is cast to text
TEXT_LIST = "text_list"  # VARCHAR[] (or any list of scalars, cast element-wise to text)
STRUCT_LIST = "struct_list"  # LIST of STRUCT
NULL = "null"  # a column with no values at all (e.g. inferred from an all-null NDJSON key)
NESTED = "nested"  # STRUCT, MAP, UNION, lists of lists...: never usable

NUMERIC = frozenset({INTEGER, DECIMAL, FRACTIONAL})
SCALAR = frozenset({TEXT, INTEGER, DECIMAL, FRACTIONAL, BOOLEAN, TIMESTAMP, TIMESTAMPTZ, DATE, OTHER_SCALAR})

_INTEGER_IDS = {
    "tinyint", "smallint", "integer", "bigint", "hugeint",
    "utinyint", "usmallint", "uinteger", "ubigint", "uhugeint",
}
_KIND_BY_ID = {
    "varchar": TEXT,
    "decimal": DECIMAL,
    "float": FRACTIONAL,
    "double": FRACTIONAL,
    "boolean": BOOLEAN,
    "timestamp": TIMESTAMP,
    "timestamp_s": TIMESTAMP,
    "timestamp_ms": TIMESTAMP,
    "timestamp_ns": TIMESTAMP,
    "timestamp with time zone": TIMESTAMPTZ,
    "date": DATE,
    "null": NULL,
    **dict.fromkeys(_INTEGER_IDS, INTEGER),
}


@dataclass(frozen=True)
class ColumnSpec:
    kinds: frozenset[str]
    expected: str  # how the accepted types read in an error message


def _spec(kinds: set[str] | frozenset[str], expected: str) -> ColumnSpec:
    return ColumnSpec(frozenset(kinds) | {NULL}, expected)


_ANY_SCALAR = _spec(SCALAR, "a scalar")
_STRING = _spec({TEXT}, "VARCHAR")
_STRING_OR_LIST = _spec({TEXT, TEXT_LIST}, "VARCHAR or VARCHAR[]")
_BOOL = _spec({BOOLEAN, TEXT}, "BOOLEAN")
_AMOUNT = _spec(NUMERIC | {TEXT}, "DECIMAL, DOUBLE, INTEGER or numeric VARCHAR")

COLUMNS: dict[str, ColumnSpec] = {
    "event_id": _ANY_SCALAR,
    "event_name": _STRING,
    "event_time": _spec(
        {TIMESTAMPTZ, TIMESTAMP, DATE, INTEGER, DECIMAL, FRACTIONAL, TEXT},
        "TIMESTAMPTZ, TIMESTAMP, epoch seconds/milliseconds or ISO-8601 VARCHAR",
    ),
    "action_source": _STRING,
    "email": _STRING_OR_LIST,
    # Digit-only phone numbers, user ids and ZIPs arrive as integers from CSV type sniffing.
    "phone": _spec({TEXT, TEXT_LIST, INTEGER}, "VARCHAR, VARCHAR[] or INTEGER"),
    "maid": _STRING_OR_LIST,
    "first_name": _STRING,
    "last_name": _STRING,
    "gender": _STRING,
    "date_of_birth": _spec({TEXT, DATE, TIMESTAMP, TIMESTAMPTZ, INTEGER}, "DATE, TIMESTAMP or VARCHAR"),
    "city": _STRING,
    "state": _STRING,
    "zip": _spec({TEXT, INTEGER}, "VARCHAR or INTEGER"),
    "country": _STRING,
    "external_id": _spec({TEXT, INTEGER}, "VARCHAR or INTEGER"),
    "client_ip_address": _STRING,
    "client_user_agent": _STRING,
    "click_id": _STRING,
    "partner_id": _ANY_SCALAR,
    "event_source_url": _STRING,
    "language": _STRING,
    "opt_out": _BOOL,
    "opt_out_type": _STRING,
    "value": _AMOUNT,
    "predicted_ltv": _AMOUNT,
    "currency": _STRING,
    "order_id": _ANY_SCALAR,
    "search_string": _ANY_SCALAR,
    "content_name": _ANY_SCALAR,
    "content_category": _ANY_SCALAR,
    "content_brand": _ANY_SCALAR,
    "num_items": _spec(NUMERIC | {TEXT}, "INTEGER"),
    "products": _spec(
        {STRUCT_LIST, TEXT}, "LIST of STRUCT(product_id, price, quantity, name, category, brand) or a JSON array"
    ),
    **dict.fromkeys(APP_DEVICE_FIELDS, _ANY_SCALAR),
    "wifi": _BOOL,
    # The ad account a row goes to, when one extract feeds several (docs/accounts.md).
    "ad_account_id": _spec({TEXT, INTEGER}, "VARCHAR or INTEGER"),
}

REQUIRED_COLUMNS = ("event_id", "event_name", "event_time")

# A row's 0-based place, carried by a source that knows it (a Parquet file's row numbers, the
# Dagster day's extracts), so the transform can place its rows without copying them
# (`transform.tables._placed_source`). The pipeline's own column: read, never reported as ignored.
POSITION_COLUMN = "pp_source_position"

# Fields of a `products` element, with the kinds each accepts.
PRODUCT_FIELDS: dict[str, frozenset[str]] = {
    "product_id": SCALAR | {NULL},
    "price": NUMERIC | {TEXT, NULL},
    "quantity": NUMERIC | {TEXT, NULL},
    "name": SCALAR | {NULL},
    "category": SCALAR | {NULL},
    "brand": SCALAR | {NULL},
}


def kind_of(column_type: duckdb.DuckDBPyType) -> str:
    """The kind of a DuckDB column type (see the constants above)."""
    type_id = column_type.id
    if type_id in ("list", "array"):
        child = dict(column_type.children)["child"]
        if child.id == "struct":
            return STRUCT_LIST
        return TEXT_LIST if kind_of(child) in SCALAR else NESTED
    if type_id in ("struct", "map", "union"):
        return NESTED
    return _KIND_BY_ID.get(type_id, OTHER_SCALAR)


@dataclass(frozen=True)
class SourceColumns:
    """The contract columns a source has: name -> kind, and for `products` elements the
    contract field name -> (the field's name in the source struct, kind). `ignored` lists the
    source's columns (and `products.<field>` fields) the contract does not have, each as it is
    spelled in the source with a did-you-mean hint when one is close (`email_address (did you
    mean email?)`)."""

    kinds: dict[str, str]
    product_fields: dict[str, tuple[str, str]]
    ignored: tuple[str, ...] = field(default=())
    # The source's spelling of the `routing.column` the config names, when it has one.
    routing_column: str | None = None

    def has(self, name: str) -> bool:
        return name in self.kinds and self.kinds[name] != NULL


def inspect_source(
    con: duckdb.DuckDBPyConnection, relation: str, label: str | None = None, *, routing_column: str | None = None
) -> SourceColumns:
    """Check `relation` (a table or view in `con`) against the contract.

    Raises `InputError` naming `label` (the file or table the user gave) and the column when a
    required column is missing, a column has an unusable type, or no column can satisfy the
    identifier rule (email, maid, or client_ip_address with client_user_agent). `routing_column`
    (the config's `routing.column`) must then be a scalar column of the source; it is read, not ignored.
    """
    label = label or relation
    try:
        described = con.table(relation)
    except duckdb.Error as exc:
        raise InputError(f"{label}: cannot read source: {first_line(exc)}") from None
    present = {name.lower(): column_type for name, column_type in zip(described.columns, described.types)}
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if missing:
        raise InputError(f"{label}: required column {missing[0]!r} is missing")
    if not ({"email", "maid"} & present.keys() or {"client_ip_address", "client_user_agent"} <= present.keys()):
        raise InputError(
            f"{label}: no identity column: needs 'email', 'maid', or both 'client_ip_address' and 'client_user_agent'"
        )
    kinds: dict[str, str] = {}
    for name, spec in COLUMNS.items():
        if name not in present:
            continue
        kind = kind_of(present[name])
        if kind not in spec.kinds:
            raise InputError(f"{label}: column {name!r} has type {present[name]}; expected {spec.expected}")
        kinds[name] = kind
    product_fields: dict[str, tuple[str, str]] = {}
    if kinds.get("products") == STRUCT_LIST:
        element = dict(present["products"].children)["child"]
        for field_name, field_type in element.children:
            accepted = PRODUCT_FIELDS.get(field_name.lower())
            if accepted is None:
                continue
            field_kind = kind_of(field_type)
            if field_kind not in accepted:
                raise InputError(f"{label}: field products.{field_name} has type {field_type}; expected a scalar")
            product_fields[field_name.lower()] = (field_name, field_kind)
    routed = None
    if routing_column is not None:
        routed = next((name for name in described.columns if name.lower() == routing_column.lower()), None)
        if routed is None:
            raise InputError(f"{label}: routing column {routing_column!r} (config key routing.column) is missing")
        if kind_of(present[routed.lower()]) not in SCALAR | {NULL}:
            raise InputError(
                f"{label}: routing column {routed!r} has type {present[routed.lower()]}; expected a scalar"
            )
    read = {*COLUMNS, POSITION_COLUMN} | ({routed.lower()} if routed else set())
    return SourceColumns(kinds, product_fields, _ignored(described.columns, present, kinds, read), routed)


def _ignored(
    source_columns: list[str], present: dict[str, duckdb.DuckDBPyType], kinds: dict[str, str], read: set[str]
) -> tuple[str, ...]:
    """The source's columns and product fields the contract does not read, with a hint each."""
    ignored = [_with_hint(name, COLUMNS) for name in source_columns if name.lower() not in read]
    if kinds.get("products") == STRUCT_LIST:
        element = dict(present["products"].children)["child"]
        ignored += [
            _with_hint(f"products.{field_name}", [f"products.{known}" for known in PRODUCT_FIELDS])
            for field_name, _ in element.children
            if field_name.lower() not in PRODUCT_FIELDS
        ]
    return tuple(ignored)


def _with_hint(name: str, known: list[str] | dict[str, ColumnSpec]) -> str:
    suggestion = did_you_mean(name, list(known))
    return f"{name} (did you mean {suggestion}?)" if suggestion else name


def did_you_mean(name: str, known: list[str]) -> str | None:
    """The known name `name` was probably meant to be: one it contains as a whole `_`-separated
    part (`email_address` -> `email`, `customer_first_name` -> `first_name`), the longest such;
    else the only one that contains all of its parts (`ip_address` -> `client_ip_address`); else
    the closest spelling (`emial` -> `email`); else None."""
    lowered = name.lower()
    parts = lowered.replace(".", "_").replace("-", "_").split("_")
    contained = [candidate for candidate in known if _holds_parts(parts, candidate.lower().split("_"))]
    if contained:
        return max(contained, key=len)
    containing = [candidate for candidate in known if _holds_parts(candidate.lower().split("_"), parts)]
    if len(parts) > 1 and len(containing) == 1:
        return containing[0]
    if len(lowered) < 4:  # too short to tell a typo from another word (`ip` is not `zip`)
        return None
    close = difflib.get_close_matches(lowered, known, n=1, cutoff=0.75)
    return close[0] if close else None


def _holds_parts(parts: list[str], wanted: list[str]) -> bool:
    return any(parts[i : i + len(wanted)] == wanted for i in range(len(parts)))
