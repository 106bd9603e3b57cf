"""The `numbered`, `prepared` and `fields` stages: the contract columns placed and numbered, then
every value normalized (identity hashed by the `pp_hash_*` macros, amounts made plain decimals,
products turned into structs) and the event name mapped through the taxonomy."""

from __future__ import annotations

from collections.abc import Callable

import pycountry

from pinterest_pipeline.event_fields import APP_DEVICE_FIELDS, CLEAR_USER_FIELDS, CUSTOM_TEXT_FIELDS, HASHED_FIELDS
from pinterest_pipeline.support.sql_identifiers import qualified_name
from pinterest_pipeline.taxonomy import event_key_sql, mapping_rows
from pinterest_pipeline.transform import contract
from pinterest_pipeline.transform.event_sql.context import QueryContext, identifier, sql_string
from pinterest_pipeline.transform.event_time import event_time_sql, uses_source_timezone

ISO_639_1 = sorted(language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2"))
ISO_4217 = sorted(currency.alpha_3 for currency in pycountry.currencies)

# Session variables holding the lookups (`lookups`).
COUNTRY_CODES, COUNTRY_HASHES, STATE_HASHES = "pp_country_codes", "pp_country_hashes", "pp_state_hashes"
# Hashed fields whose digests `numbered` reads from the lookups: the column holding them.
LOOKED_UP_HASHES = {"country": "looked_up_country_hash", "state": "looked_up_state_hash"}

# The value of the `routing.column` in `numbered`, under a name no contract column has.
ROUTING_VALUE = "pp_routing_value"

# Values of a list column read by index, not by a lambda (`_each_of_list`).
_LIST_BY_INDEX = 3

# DECIMALs print without an exponent, so they take a macro without the exponent branch, whose
# large expression is costly to set up inside the products lambda.
_PLAIN_NUMBER = {contract.DECIMAL: "pp_plain_exact_number", contract.FRACTIONAL: "pp_plain_number"}


def lookups(q: QueryContext, source: str) -> dict[str, str]:
    """Session variables to set before the query runs: name -> a SELECT giving a MAP from each
    distinct source value to its normalization, for the normalizations that look names up in
    a table (country codes, country and state digests).

    Called per row, each would be a correlated subquery, which DuckDB plans as a join over a
    copy of the whole source: costly, and its output leaves the input order, so the wide
    event rows would need sorting. The distinct values are few, and a constant MAP is read
    per row without a join. Keys are never NULL (a NULL value normalizes to NULL anyway)."""
    table = qualified_name(source)
    default_country = q.params.bind("default_country", q.config.default_country, "VARCHAR")
    lookups = {}
    if q.has("country"):
        country = identifier("country")
        distinct = f"SELECT DISTINCT {country} FROM {table} WHERE {country} IS NOT NULL"
        lookups[COUNTRY_CODES] = f"SELECT map(list({country}), list(pp_country_code({country}))) FROM ({distinct})"
        lookups[COUNTRY_HASHES] = (
            f"SELECT map(list({country}), list(pp_hash_country({identity_text(q, 'country', country)}))) "
            f"FROM ({distinct})"
        )
    if q.has("state"):
        state = identity_text(q, "state", identifier("state"))
        region = (
            f"coalesce(pp_country_code({identifier('country')}), {default_country})"
            if q.has("country")
            else default_country
        )
        lookups[STATE_HASHES] = (
            f"SELECT map(list({_state_key('region', 'state')}), list(pp_hash_st(state, region))) "
            f"FROM (SELECT DISTINCT {state} AS state, {region} AS region FROM {table} "
            f"WHERE {identifier('state')} IS NOT NULL)"
        )
    return lookups


def numbered(q: QueryContext, source: str, position: str) -> str:
    """The contract columns of `source` in its order, with `source_row` (`position`, an
    expression of the 0-based place of a row in `source`, plus one), `region`, `event_key` and
    the looked-up digests."""
    default_country = q.params.bind("default_country", q.config.default_country, "VARCHAR")
    selected = [identifier(name) for name in q.columns.kinds]
    key = event_key_sql(f"pp_text({identifier('event_name')})")
    region, looked_up = default_country, []
    if q.has("country"):
        region = f"coalesce(getvariable('{COUNTRY_CODES}')[{identifier('country')}], {default_country})"
        looked_up.append(f"getvariable('{COUNTRY_HASHES}')[{identifier('country')}] AS looked_up_country_hash")
    if q.columns.routing_column is not None:
        looked_up.append(f"{identifier(q.columns.routing_column)} AS {ROUTING_VALUE}")
    numbered = (
        f"SELECT {position} + 1 AS source_row, {region} AS region, {key} AS event_key, "
        f"{', '.join([*selected, *looked_up])} FROM {qualified_name(source)}"
    )
    if not q.has("state"):
        return numbered
    state_key = _state_key("region", identity_text(q, "state", identifier("state")))
    return f"SELECT *, getvariable('{STATE_HASHES}')[{state_key}] AS looked_up_state_hash FROM ({numbered})"


def text(q: QueryContext, name: str) -> str:
    return f"pp_text({identifier(name)})" if q.has(name) else "CAST(NULL AS VARCHAR)"


def identity_text(q: QueryContext, name: str, value_sql: str) -> str:
    """A scalar identity value as the VARCHAR the hash macros take."""
    kind = q.kind(name)
    if name == "zip" and kind == contract.INTEGER:
        return f"lpad(CAST({value_sql} AS VARCHAR), 5, '0')"
    if name == "date_of_birth" and kind in (contract.DATE, contract.TIMESTAMP, contract.TIMESTAMPTZ):
        return f"strftime({value_sql}, '%Y-%m-%d')"
    return f"CAST({value_sql} AS VARCHAR)"


def _hash_call(q: QueryContext, macro: str, value_sql: str, takes_region: bool) -> str:
    return f"{macro}({value_sql}, region)" if takes_region else f"{macro}({value_sql})"


def _hashed(q: QueryContext, column: str, macro: str, takes_region: bool) -> str:
    """The digest (scalar column) or list of distinct digests (list column) of one field."""
    if q.kind(column) == contract.TEXT_LIST:
        return f"pp_distinct_hashes({_each_of_list(q, column, lambda v: _hash_call(q, macro, v, takes_region))})"
    return _hash_call(q, macro, identity_text(q, column, identifier(column)), takes_region)


def _each_of_list(q: QueryContext, column: str, each: Callable[[str], str]) -> str:
    """The list of `each(value)` over a list column, in order.

    A lambda sets its body up again for every chunk of rows, and the normalization macros
    hold large regular expressions (final sigma, Unicode classes) that are then compiled
    each time: most lists are short, so their first `_LIST_BY_INDEX` values are read by index
    outside any lambda (a missing one is NULL, which the callers drop), and only longer lists
    take the lambda (a branch no row of a chunk takes costs nothing; a NULL list takes none).
    """
    value = identifier(column)
    by_index = ", ".join(each(f"CAST({value}[{i}] AS VARCHAR)") for i in range(1, _LIST_BY_INDEX + 1))
    return (
        f"CASE WHEN len({value}) <= {_LIST_BY_INDEX} THEN [{by_index}] "
        f"WHEN len({value}) > {_LIST_BY_INDEX} THEN list_transform({value}, lambda v: {each('CAST(v AS VARCHAR)')}) END"
    )


def _staged_hash(q: QueryContext, column: str) -> str | None:
    """The digest of a phone or ZIP from the `prepared` stage's columns, or None for other
    fields (and for phone lists, which `hashed` handles)."""
    if column == "phone" and q.kind("phone") != contract.TEXT_LIST:
        text = identity_text(q, "phone", identifier("phone"))
        return f"pp__hash_or_passthrough({text}, pp__ph_normalized_of(pp_phone_t, pp_phone_r))"
    if column == "zip":
        text = identity_text(q, "zip", identifier("zip"))
        return f"pp__hash_or_passthrough({text}, pp__zp_normalized_of(pp_zip_f, region))"
    return None


def _amount(q: QueryContext, name: str) -> tuple[str, str]:
    """(plain decimal string or NULL, whether the row has a value at all); a value given but
    NULL after parsing was not a number."""
    if not q.has(name):
        return "CAST(NULL AS VARCHAR)", "false"
    if q.kind(name) == contract.INTEGER:
        return f"CAST({identifier(name)} AS VARCHAR)", f"({identifier(name)} IS NOT NULL)"
    if q.kind(name) in (contract.DECIMAL, contract.FRACTIONAL):
        return f"{_PLAIN_NUMBER[q.kind(name)]}({identifier(name)})", f"({identifier(name)} IS NOT NULL)"
    return f"pp_plain_decimal(pp_text({identifier(name)}))", f"(pp_text({identifier(name)}) IS NOT NULL)"


def _integer(q: QueryContext, value_sql: str, kind: str) -> str:
    if kind == contract.INTEGER:
        return f"CAST({value_sql} AS BIGINT)"
    if kind in (contract.DECIMAL, contract.FRACTIONAL):
        return f"pp_integer_number({value_sql})"
    if kind == contract.TEXT:
        return f"pp_integer_text(pp_text({value_sql}))"
    return "CAST(NULL AS BIGINT)"


def _products(q: QueryContext) -> str:
    """The products as a LIST of STRUCT(id, item_price, quantity, item_name, item_category,
    item_brand, price_given, quantity_given) of normalized values; a value given but NULL after
    parsing was unusable."""
    if q.kind("products") == contract.TEXT:
        as_json = (
            "CASE WHEN json_valid(products) AND json_type(products) = 'ARRAY' THEN from_json(products, "
            "'[{\"product_id\":\"VARCHAR\",\"price\":\"VARCHAR\",\"quantity\":\"VARCHAR\",\"name\":\"VARCHAR\","
            "\"category\":\"VARCHAR\",\"brand\":\"VARCHAR\"}]') END"
        )
        source, fields = as_json, {name: (name, contract.TEXT) for name in contract.PRODUCT_FIELDS}
    else:
        source, fields = identifier("products"), q.columns.product_fields

    def get(name: str) -> tuple[str | None, str]:
        if name not in fields:
            return None, contract.NULL
        source_name, kind = fields[name]
        return f"struct_extract(p, {sql_string(source_name)})", kind

    def text(name: str) -> str:
        value, _ = get(name)
        return f"pp_text({value})" if value else "CAST(NULL AS VARCHAR)"

    price, price_kind = get("price")
    if price is None:
        price_sql, price_given = "CAST(NULL AS VARCHAR)", "false"
    elif price_kind == contract.INTEGER:
        price_sql, price_given = f"CAST({price} AS VARCHAR)", f"({price} IS NOT NULL)"
    elif price_kind in (contract.DECIMAL, contract.FRACTIONAL):
        price_sql, price_given = f"{_PLAIN_NUMBER[price_kind]}({price})", f"({price} IS NOT NULL)"
    else:
        price_sql, price_given = f"pp_plain_decimal(pp_text({price}))", f"(pp_text({price}) IS NOT NULL)"
    quantity, quantity_kind = get("quantity")
    quantity_sql = _integer(q, quantity, quantity_kind) if quantity else "CAST(NULL AS BIGINT)"
    quantity_given = f"({quantity} IS NOT NULL)" if quantity else "false"
    element = (
        f"{{'id': {text('product_id')}, 'item_price': {price_sql}, 'quantity': {quantity_sql}, "
        f"'item_name': {text('name')}, 'item_category': {text('category')}, 'item_brand': {text('brand')}, "
        f"'price_given': {price_given}, 'quantity_given': {quantity_given}}}"
    )
    return f"list_transform({source}, lambda p: {element})"


def prepared(q: QueryContext) -> str:
    """The `prepared` stage over `numbered`: the intermediate values the phone and ZIP rules
    read several times, each computed once in a column, so that the rules run outside any
    lambda (the `pp__*_of` macros)."""
    values = []
    if q.has("phone") and q.kind("phone") != contract.TEXT_LIST:
        values.append(f"pp__phone_text({identity_text(q, 'phone', identifier('phone'))}) AS pp_phone_t")
        values.append("pp__phone_region(region) AS pp_phone_r")
    if q.has("zip"):
        values.append(f"pp__lowered_ascii_digits({identity_text(q, 'zip', identifier('zip'))}) AS pp_zip_f")
    return f"SELECT *{''.join(', ' + value for value in values)} FROM numbered"


def fields(q: QueryContext, names: tuple[str, ...] | None = None, stage: str = "numbered") -> str:
    """The `fields` stage over `stage AS n`: every field, or those of `names` the source has."""
    out = _field_expressions(q)
    selected = [(name, expr) for name, expr in out.items() if names is None or name in names]
    select = ",\n    ".join(f"{expr} AS {identifier(name)}" for name, expr in selected)
    return f"SELECT {select}\n  FROM {stage} AS n"


def _field_expressions(q: QueryContext) -> dict[str, str]:
    """Field name -> its expression over the stage the `fields` stage reads (`n`), for every field
    the source has."""
    p = q.params
    out: dict[str, str] = {"source_row": "source_row"}
    out["event_id"] = f"pp_text({identifier('event_id')})"
    out["source_event_name"] = "pp_text(n.event_name)"
    out["mapped_event_name"] = _mapped_event_name(q)
    event_time_kind = q.kind("event_time")
    out["event_time"] = event_time_sql(
        identifier("event_time"), event_time_kind, source_timezone=q.config.source_timezone
    )
    if uses_source_timezone(event_time_kind, q.config.source_timezone):
        p.bind("source_timezone", q.config.source_timezone)
    out["event_time_given"] = (
        f"(pp_text({identifier('event_time')}) IS NOT NULL)"
        if event_time_kind == contract.TEXT
        else f"({identifier('event_time')} IS NOT NULL)"
    )
    default_action_source = p.bind("default_action_source", q.config.default_action_source, "VARCHAR")
    out["action_source"] = f"coalesce(lower({text(q, 'action_source')}), {default_action_source})"

    for hashed in HASHED_FIELDS:
        if q.has(hashed.column):
            out[f"h_{hashed.key}"] = (
                LOOKED_UP_HASHES.get(hashed.column)
                or _staged_hash(q, hashed.column)
                or _hashed(q, hashed.column, f"pp_hash_{hashed.macro}", hashed.takes_region)
            )
    for name in CLEAR_USER_FIELDS:
        if name == "click_id" and q.has("event_source_url"):
            out[name] = f"coalesce({text(q, 'click_id')}, pp_epik({text(q, 'event_source_url')}))"
        elif q.has(name):
            out[name] = text(q, name)
    # Warnings are only ever raised for values that were dropped, so the checked stage asks
    # for them only where the hash is NULL (parsing a phone twice per row would be costly).
    if q.has("phone"):
        if q.kind("phone") == contract.TEXT_LIST:
            out["phone_warnings"] = _each_of_list(q, "phone", lambda v: f"pp_ph_warning({v}, region)")
        else:
            out["phone_text"] = identity_text(q, "phone", "phone")
            out["pp_phone_t"], out["pp_phone_r"] = "pp_phone_t", "pp_phone_r"
    if q.has("zip"):
        out["zip_text"] = identity_text(q, "zip", "zip")
        out["pp_zip_f"] = "pp_zip_f"
    if q.has("phone") or q.has("zip"):
        out["region"] = "region"

    for name in ("event_source_url", *APP_DEVICE_FIELDS, "opt_out_type", *CUSTOM_TEXT_FIELDS):
        if q.has(name):
            out[name] = text(q, name)
    for name in ("opt_out", "wifi"):
        if q.has(name):
            out[name] = (
                identifier(name)
                if q.kind(name) == contract.BOOLEAN
                else f"TRY_CAST(pp_text({identifier(name)}) AS BOOLEAN)"
            )
    if q.has("language"):
        out["language"] = f"pp_language({identifier('language')}, {p.bind_code_set('iso_639_1', ISO_639_1)})"

    out["value"], out["value_given"] = _amount(q, "value")
    out["predicted_ltv"], out["predicted_ltv_given"] = _amount(q, "predicted_ltv")
    if q.has("currency"):
        currencies = p.bind_code_set("iso_4217", ISO_4217)
        currency_text = f"upper({text(q, 'currency')})"
        out["currency_given"] = currency_text
        out["currency_valid"] = f"coalesce(map_contains({currencies}, {currency_text}), false)"
    else:
        out["currency_given"] = "CAST(NULL AS VARCHAR)"
        out["currency_valid"] = "false"
    if q.has("num_items"):
        out["num_items"] = _integer(q, identifier("num_items"), q.kind("num_items"))
        out["num_items_given"] = f"({identifier('num_items')} IS NOT NULL)"
    if q.has("products"):
        out["products"] = _products(q)
    if q.routed:
        out["ad_account_id"] = _ad_account_id(q)
    return out


def _ad_account_id(q: QueryContext) -> str:
    """The row's ad account: its `ad_account_id` when that is 1 to 18 digits, else the account its
    routing value maps to (trimmed, lowercased), else NULL (rejected `no_ad_account`)."""
    candidates = []
    if q.has("ad_account_id"):
        given = f"pp_text({identifier('ad_account_id')})"
        candidates.append(f"CASE WHEN regexp_full_match({given}, '[0-9]{{1,18}}') THEN {given} END")
    routing = q.config.routing
    if routing is not None:
        keys = q.params.bind("routing_values", list(routing.accounts), "VARCHAR[]")
        accounts = q.params.bind("routing_accounts", list(routing.accounts.values()), "VARCHAR[]")
        candidates.append(f"map({keys}, {accounts})[lower(pp_text({ROUTING_VALUE}))]")
    return candidates[0] if len(candidates) == 1 else f"coalesce({', '.join(candidates)})"


def _mapped_event_name(q: QueryContext) -> str:
    """The Pinterest name through the taxonomy rows, bound as a MAP: a lookup per row that
    keeps the input order (a join with a small table may not)."""
    rows = list(mapping_rows(q.config.taxonomy, q.config.event_mapping))
    keys = q.params.bind("event_keys", [row.event_key for row in rows], "VARCHAR[]")
    names = q.params.bind("event_names", [row.event_name for row in rows], "VARCHAR[]")
    page_views = q.params.bind(
        "page_view_keys", [row.event_key for row in rows if row.page_view], "VARCHAR[]"
    )
    key = "n.event_key"
    unknown = "'custom'" if q.config.unknown_events == "custom" else "CAST(NULL AS VARCHAR)"
    category = text(q, "content_category")
    return (
        f"CASE WHEN list_contains({page_views}, {key}) "
        f"THEN CASE WHEN {category} IS NOT NULL THEN 'view_category' ELSE 'page_visit' END "
        f"ELSE coalesce(map({keys}, {names})[{key}], {unknown}) END"
    )


def _state_key(region_sql: str, state_sql: str) -> str:
    """The key of a state in its lookup: region codes never hold `|`, so the key is unambiguous."""
    return f"coalesce({region_sql}, '') || '|' || {state_sql}"
