"""The SQL that turns contract rows into Pinterest events or reject reasons (DESIGN §4.2, §4.3).

The queries are generated from the columns the source has and their kinds (`contract.SourceColumns`),
so an absent column costs nothing and every type gets the cast it needs. Only column names from the
contract and fixed SQL are written into the text; every configured value is a bound `$parameter`.

A transform runs two queries over the source, each one streaming pipeline of scans, filters and
projections (no join, which would lose the input order), so rows keep their input order without a
sort and nothing wide is ever copied:

- the row checks (`build_row_check_query`), one narrow row per source row: `source_row`, event_id,
  the mapped event name, the reject `reason` (the first rule that fails, in DESIGN §4.3 order), its
  `detail` and the `partition_day`. The in-run duplicates and the rejects come from these rows;
- the events (`build_event_json_query`), for the rows without a reason: every value normalized
  (identity hashed by the `pp_hash_*` macros), the warnings and the event JSON. It is the bulk of
  the work and of the bytes, and is either stored or streamed to a file.

Both number the rows by their position in the source (`source_row`, from 1) and compute a row's
reason with the same SQL, so they agree on every row. The stages of a query: `numbered` (the
contract columns with `source_row` and the row's resolved country, `region`, that phone, state and
ZIP normalization need), `fields` (every value normalized, the event name mapped through the
taxonomy), then the reason, the warnings and the JSON.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import duckdb
import pycountry

from pinterest_pipeline.transform import contract
from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.transform.contract import SourceColumns
from pinterest_pipeline.transform.event_time import event_time_sql, uses_source_timezone
from pinterest_pipeline.transform.normalize.reference import PHONE_INVALID_LENGTH, PHONE_WITHOUT_COUNTRY_CODE, ZIP_MALFORMED
from pinterest_pipeline.support.sql_identifiers import qualified_name, quote_identifier
from pinterest_pipeline.support.sql_parameters import used_parameters
from pinterest_pipeline.taxonomy import event_key_sql, mapping_rows

ACTION_SOURCES = ("app_android", "app_ios", "web", "offline")
ISO_639_1 = sorted(language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2"))
ISO_4217 = sorted(currency.alpha_3 for currency in pycountry.currencies)

# Reject reasons in the order they are tested: the first that applies is the row's reason.
REJECT_REASONS = (
    "missing_event_id",
    "missing_event_name",
    "unknown_event_name",
    "invalid_event_time",
    "too_old",
    "in_future",
    "missing_action_source",
    "invalid_action_source",
    "missing_identifier",
    "duplicate_in_run",
)

# Hashed user_data keys in output order: source column, key, normalization macro, takes the region.
HASHED_FIELDS = (
    ("email", "em", "pp_hash_em", False),
    ("phone", "ph", "pp_hash_ph", True),
    ("gender", "ge", "pp_hash_ge", False),
    ("date_of_birth", "db", "pp_hash_db", False),
    ("last_name", "ln", "pp_hash_ln", False),
    ("first_name", "fn", "pp_hash_fn", False),
    ("city", "ct", "pp_hash_ct", False),
    ("state", "st", "pp_hash_st", True),
    ("zip", "zp", "pp_hash_zp", True),
    ("country", "country", "pp_hash_country", False),
    ("external_id", "external_id", "pp_hash_external_id", False),
    ("maid", "hashed_maids", "pp_hash_maid", False),
)
# Fields the reject rules and the rejects read: all the row checks compute.
ROW_CHECK_FIELDS = (
    "source_row", "event_id", "source_event_name", "mapped_event_name", "event_time", "event_time_given",
    "action_source", "h_em", "h_hashed_maids", "client_ip_address", "client_user_agent",
)
# Session variables holding the lookups (`_Builder.lookups`).
COUNTRY_CODES, COUNTRY_HASHES, STATE_HASHES = "pp_country_codes", "pp_country_hashes", "pp_state_hashes"
# Hashed fields whose digests `numbered` reads from the lookups: the column holding them.
LOOKED_UP_HASHES = {"country": "looked_up_country_hash", "state": "looked_up_state_hash"}
PLAIN_USER_FIELDS = ("client_ip_address", "client_user_agent", "click_id", "partner_id")
APP_DEVICE_FIELDS = (
    "app_id", "app_name", "app_version", "device_brand", "device_carrier", "device_model", "device_type", "os_version",
)
CUSTOM_TEXT_FIELDS = ("order_id", "search_string", "content_name", "content_category", "content_brand")

# Values of a list column read by index, not by a lambda (`_Builder._each_of_list`).
_LIST_BY_INDEX = 3

# DECIMALs print without an exponent, so they take a macro without the exponent branch, whose
# large expression is costly to set up inside the products lambda.
_PLAIN_NUMBER = {contract.DECIMAL: "pp_plain_exact_number", contract.FRACTIONAL: "pp_plain_number"}



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
        per row and costs about fifteen times as much."""
        return f"MAP({self.bind(name, codes, 'VARCHAR[]')}, ${name})"


def _c(name: str) -> str:
    return quote_identifier(name)


class _Builder:
    def __init__(self, columns: SourceColumns, config: PipelineConfig, now: datetime):
        self.columns = columns
        self.config = config
        self.now = now
        self.params = Parameters()

    def has(self, name: str) -> bool:
        return self.columns.has(name)

    def kind(self, name: str) -> str:
        return self.columns.kinds[name]

    # -- stage 1 ---------------------------------------------------------------------------

    def lookups(self, source: str) -> dict[str, str]:
        """Session variables to set before the query runs: name -> a SELECT giving a MAP from each
        distinct source value to its normalization, for the normalizations that look names up in
        a table (country codes, country and state digests).

        Called per row, each would be a correlated subquery, which DuckDB plans as a join over a
        copy of the whole source: costly, and its output leaves the input order, so the wide
        event rows would need sorting. The distinct values are few, and a constant MAP is read
        per row without a join. Keys are never NULL (a NULL value normalizes to NULL anyway)."""
        table = qualified_name(source)
        default_country = self.params.bind("default_country", self.config.default_country, "VARCHAR")
        lookups = {}
        if self.has("country"):
            country = _c("country")
            distinct = f"SELECT DISTINCT {country} FROM {table} WHERE {country} IS NOT NULL"
            lookups[COUNTRY_CODES] = f"SELECT map(list({country}), list(pp_country_code({country}))) FROM ({distinct})"
            lookups[COUNTRY_HASHES] = (
                f"SELECT map(list({country}), list(pp_hash_country({self._identity_text('country', country)}))) "
                f"FROM ({distinct})"
            )
        if self.has("state"):
            state = self._identity_text("state", _c("state"))
            region = (
                f"coalesce(pp_country_code({_c('country')}), {default_country})" if self.has("country") else default_country
            )
            lookups[STATE_HASHES] = (
                f"SELECT map(list({_state_key('region', 'state')}), list(pp_hash_st(state, region))) "
                f"FROM (SELECT DISTINCT {state} AS state, {region} AS region FROM {table} WHERE {_c('state')} IS NOT NULL)"
            )
        return lookups

    def numbered(self, source: str, position: str) -> str:
        """The contract columns of `source` in its order, with `source_row` (`position`, an
        expression of the 0-based place of a row in `source`, plus one), `region`, `event_key` and
        the looked-up digests."""
        default_country = self.params.bind("default_country", self.config.default_country, "VARCHAR")
        selected = [_c(name) for name in self.columns.kinds]
        key = event_key_sql(f"pp_text({_c('event_name')})")
        region, looked_up = default_country, []
        if self.has("country"):
            region = f"coalesce(getvariable('{COUNTRY_CODES}')[{_c('country')}], {default_country})"
            looked_up.append(f"getvariable('{COUNTRY_HASHES}')[{_c('country')}] AS looked_up_country_hash")
        numbered = (
            f"SELECT {position} + 1 AS source_row, {region} AS region, {key} AS event_key, "
            f"{', '.join([*selected, *looked_up])} FROM {qualified_name(source)}"
        )
        if not self.has("state"):
            return numbered
        state_key = _state_key("region", self._identity_text("state", _c("state")))
        return f"SELECT *, getvariable('{STATE_HASHES}')[{state_key}] AS looked_up_state_hash FROM ({numbered})"

    # -- stage 2 ---------------------------------------------------------------------------

    def _text(self, name: str) -> str:
        return f"pp_text({_c(name)})" if self.has(name) else "CAST(NULL AS VARCHAR)"

    def _identity_text(self, name: str, value_sql: str) -> str:
        """A scalar identity value as the VARCHAR the hash macros take."""
        kind = self.kind(name)
        if name == "zip" and kind == contract.INTEGER:
            return f"lpad(CAST({value_sql} AS VARCHAR), 5, '0')"
        if name == "date_of_birth" and kind in (contract.DATE, contract.TIMESTAMP, contract.TIMESTAMPTZ):
            return f"strftime({value_sql}, '%Y-%m-%d')"
        return f"CAST({value_sql} AS VARCHAR)"

    def _hash_call(self, macro: str, value_sql: str, takes_region: bool) -> str:
        return f"{macro}({value_sql}, region)" if takes_region else f"{macro}({value_sql})"

    def hashed(self, column: str, macro: str, takes_region: bool) -> str:
        """The digest (scalar column) or list of distinct digests (list column) of one field."""
        if self.kind(column) == contract.TEXT_LIST:
            return f"pp_distinct_hashes({self._each_of_list(column, lambda v: self._hash_call(macro, v, takes_region))})"
        return self._hash_call(macro, self._identity_text(column, _c(column)), takes_region)

    def _each_of_list(self, column: str, each: Callable[[str], str]) -> str:
        """The list of `each(value)` over a list column, in order.

        A lambda sets its body up again for every chunk of rows, and the normalization macros
        hold large regular expressions (final sigma, Unicode classes) that are then compiled
        each time: most lists are short, so their first `_LIST_BY_INDEX` values are read by index
        outside any lambda (a missing one is NULL, which the callers drop), and only longer lists
        take the lambda (a branch no row of a chunk takes costs nothing; a NULL list takes none).
        """
        value = _c(column)
        by_index = ", ".join(each(f"CAST({value}[{i}] AS VARCHAR)") for i in range(1, _LIST_BY_INDEX + 1))
        return (
            f"CASE WHEN len({value}) <= {_LIST_BY_INDEX} THEN [{by_index}] "
            f"WHEN len({value}) > {_LIST_BY_INDEX} THEN list_transform({value}, lambda v: {each('CAST(v AS VARCHAR)')}) END"
        )

    def _staged_hash(self, column: str) -> str | None:
        """The digest of a phone or ZIP from the `prepared` stage's columns, or None for other
        fields (and for phone lists, which `hashed` handles)."""
        if column == "phone" and self.kind("phone") != contract.TEXT_LIST:
            text = self._identity_text("phone", _c("phone"))
            return f"pp__hash_or_passthrough({text}, pp__ph_normalized_of(pp_phone_t, pp_phone_r))"
        if column == "zip":
            text = self._identity_text("zip", _c("zip"))
            return f"pp__hash_or_passthrough({text}, pp__zp_normalized_of(pp_zip_f, region))"
        return None

    def _amount(self, name: str) -> tuple[str, str]:
        """(plain decimal string or NULL, whether the row has a value at all); a value given but
        NULL after parsing was not a number."""
        if not self.has(name):
            return "CAST(NULL AS VARCHAR)", "false"
        if self.kind(name) == contract.INTEGER:
            return f"CAST({_c(name)} AS VARCHAR)", f"({_c(name)} IS NOT NULL)"
        if self.kind(name) in (contract.DECIMAL, contract.FRACTIONAL):
            return f"{_PLAIN_NUMBER[self.kind(name)]}({_c(name)})", f"({_c(name)} IS NOT NULL)"
        return f"pp_plain_decimal(pp_text({_c(name)}))", f"(pp_text({_c(name)}) IS NOT NULL)"

    def _integer(self, value_sql: str, kind: str) -> str:
        if kind == contract.INTEGER:
            return f"CAST({value_sql} AS BIGINT)"
        if kind in (contract.DECIMAL, contract.FRACTIONAL):
            return f"pp_integer_number({value_sql})"
        if kind == contract.TEXT:
            return f"pp_integer_text(pp_text({value_sql}))"
        return "CAST(NULL AS BIGINT)"

    def _products(self) -> str:
        """The products as a LIST of STRUCT(id, item_price, quantity, item_name, item_category,
        item_brand, price_given, quantity_given) of normalized values; a value given but NULL after
        parsing was unusable."""
        if self.kind("products") == contract.TEXT:
            as_json = (
                "CASE WHEN json_valid(products) AND json_type(products) = 'ARRAY' THEN from_json(products, "
                "'[{\"product_id\":\"VARCHAR\",\"price\":\"VARCHAR\",\"quantity\":\"VARCHAR\",\"name\":\"VARCHAR\","
                "\"category\":\"VARCHAR\",\"brand\":\"VARCHAR\"}]') END"
            )
            source, fields = as_json, {name: (name, contract.TEXT) for name in contract.PRODUCT_FIELDS}
        else:
            source, fields = _c("products"), self.columns.product_fields

        def get(name: str) -> tuple[str | None, str]:
            if name not in fields:
                return None, contract.NULL
            source_name, kind = fields[name]
            return f"struct_extract(p, {_sql_string(source_name)})", kind

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
        quantity_sql = self._integer(quantity, quantity_kind) if quantity else "CAST(NULL AS BIGINT)"
        quantity_given = f"({quantity} IS NOT NULL)" if quantity else "false"
        element = (
            f"{{'id': {text('product_id')}, 'item_price': {price_sql}, 'quantity': {quantity_sql}, "
            f"'item_name': {text('name')}, 'item_category': {text('category')}, 'item_brand': {text('brand')}, "
            f"'price_given': {price_given}, 'quantity_given': {quantity_given}}}"
        )
        return f"list_transform({source}, lambda p: {element})"

    def prepared(self) -> str:
        """The `prepared` stage over `numbered`: the intermediate values the phone and ZIP rules
        read several times, each computed once in a column, so that the rules run outside any
        lambda (the `pp__*_of` macros)."""
        values = []
        if self.has("phone") and self.kind("phone") != contract.TEXT_LIST:
            values.append(f"pp__phone_text({self._identity_text('phone', _c('phone'))}) AS pp_phone_t")
            values.append("pp__phone_region(region) AS pp_phone_r")
        if self.has("zip"):
            values.append(f"pp__lowered_ascii_digits({self._identity_text('zip', _c('zip'))}) AS pp_zip_f")
        return f"SELECT *{''.join(', ' + value for value in values)} FROM numbered"

    def fields(self, names: tuple[str, ...] | None = None, stage: str = "numbered") -> str:
        """The `fields` stage over `stage AS n`: every field, or those of `names` the source has."""
        out = self.field_expressions()
        selected = [(name, expr) for name, expr in out.items() if names is None or name in names]
        select = ",\n    ".join(f"{expr} AS {_c(name)}" for name, expr in selected)
        return f"SELECT {select}\n  FROM {stage} AS n"

    def field_expressions(self) -> dict[str, str]:
        """Field name -> its expression over the stage the `fields` stage reads (`n`), for every field
        the source has."""
        p = self.params
        out: dict[str, str] = {"source_row": "source_row"}
        out["event_id"] = f"pp_text({_c('event_id')})"
        out["source_event_name"] = "pp_text(n.event_name)"
        out["mapped_event_name"] = self._mapped_event_name()
        event_time_kind = self.kind("event_time")
        out["event_time"] = event_time_sql(_c("event_time"), event_time_kind, source_timezone=self.config.source_timezone)
        if uses_source_timezone(event_time_kind, self.config.source_timezone):
            p.bind("source_timezone", self.config.source_timezone)
        out["event_time_given"] = (
            f"(pp_text({_c('event_time')}) IS NOT NULL)"
            if event_time_kind == contract.TEXT
            else f"({_c('event_time')} IS NOT NULL)"
        )
        default_action_source = p.bind("default_action_source", self.config.default_action_source, "VARCHAR")
        out["action_source"] = f"coalesce(lower({self._text('action_source')}), {default_action_source})"

        for column, key, macro, takes_region in HASHED_FIELDS:
            if self.has(column):
                out[f"h_{key}"] = (
                    LOOKED_UP_HASHES.get(column) or self._staged_hash(column) or self.hashed(column, macro, takes_region)
                )
        for name in PLAIN_USER_FIELDS:
            if name == "click_id" and self.has("event_source_url"):
                out[name] = f"coalesce({self._text('click_id')}, pp_epik({self._text('event_source_url')}))"
            elif self.has(name):
                out[name] = self._text(name)
        # Warnings are only ever raised for values that were dropped, so the checked stage asks
        # for them only where the hash is NULL (parsing a phone twice per row would be costly).
        if self.has("phone"):
            if self.kind("phone") == contract.TEXT_LIST:
                out["phone_warnings"] = self._each_of_list("phone", lambda v: f"pp_ph_warning({v}, region)")
            else:
                out["phone_text"] = self._identity_text("phone", "phone")
                out["pp_phone_t"], out["pp_phone_r"] = "pp_phone_t", "pp_phone_r"
        if self.has("zip"):
            out["zip_text"] = self._identity_text("zip", "zip")
            out["pp_zip_f"] = "pp_zip_f"
        if self.has("phone") or self.has("zip"):
            out["region"] = "region"

        for name in ("event_source_url", *APP_DEVICE_FIELDS, "opt_out_type", *CUSTOM_TEXT_FIELDS):
            if self.has(name):
                out[name] = self._text(name)
        for name in ("opt_out", "wifi"):
            if self.has(name):
                out[name] = _c(name) if self.kind(name) == contract.BOOLEAN else f"TRY_CAST(pp_text({_c(name)}) AS BOOLEAN)"
        if self.has("language"):
            out["language"] = f"pp_language({_c('language')}, {p.bind_code_set('iso_639_1', ISO_639_1)})"

        out["value"], out["value_given"] = self._amount("value")
        out["predicted_ltv"], out["predicted_ltv_given"] = self._amount("predicted_ltv")
        if self.has("currency"):
            currencies = p.bind_code_set("iso_4217", ISO_4217)
            currency_text = f"upper({self._text('currency')})"
            out["currency_given"] = currency_text
            out["currency_valid"] = f"coalesce(map_contains({currencies}, {currency_text}), false)"
        else:
            out["currency_given"] = "CAST(NULL AS VARCHAR)"
            out["currency_valid"] = "false"
        if self.has("num_items"):
            out["num_items"] = self._integer(_c("num_items"), self.kind("num_items"))
            out["num_items_given"] = f"({_c('num_items')} IS NOT NULL)"
        if self.has("products"):
            out["products"] = self._products()
        return out

    def _mapped_event_name(self) -> str:
        """The Pinterest name through the taxonomy rows, bound as a MAP: a lookup per row that
        keeps the input order (a join with a small table may not)."""
        rows = list(mapping_rows(self.config.taxonomy, self.config.event_mapping))
        keys = self.params.bind("event_keys", [row.event_key for row in rows], "VARCHAR[]")
        names = self.params.bind("event_names", [row.event_name for row in rows], "VARCHAR[]")
        page_views = self.params.bind(
            "page_view_keys", [row.event_key for row in rows if row.page_view], "VARCHAR[]"
        )
        key = "n.event_key"
        unknown = "'custom'" if self.config.unknown_events == "custom" else "CAST(NULL AS VARCHAR)"
        category = self._text("content_category")
        return (
            f"CASE WHEN list_contains({page_views}, {key}) "
            f"THEN CASE WHEN {category} IS NOT NULL THEN 'view_category' ELSE 'page_visit' END "
            f"ELSE coalesce(map({keys}, {names})[{key}], {unknown}) END"
        )

    def partition_day(self) -> str:
        """The day of `event_time` in the partitions' time zone."""
        tz = self.params.bind("partition_timezone", self.config.partition_timezone)
        return f"CAST(timezone({tz}, to_timestamp(event_time)) AS DATE)"

    # -- stage 3 ---------------------------------------------------------------------------

    def reason(self) -> str:
        """The reject reason of a row of `fields`: the first rule that fails, or NULL."""
        p = self.params
        now_s = int(self.now.timestamp())
        oldest = p.bind("oldest_s", now_s - int(self.config.max_event_age.total_seconds()), "BIGINT")
        latest = p.bind("latest_s", now_s + int(self.config.max_future_skew.total_seconds()), "BIGINT")
        action_sources = p.bind("action_sources", list(ACTION_SOURCES), "VARCHAR[]")
        identifier = " OR ".join(
            condition
            for condition, needed in (
                ("h_em IS NOT NULL", self.has("email")),
                ("h_hashed_maids IS NOT NULL", self.has("maid")),
                (
                    "(client_ip_address IS NOT NULL AND client_user_agent IS NOT NULL)",
                    self.has("client_ip_address") and self.has("client_user_agent"),
                ),
            )
            if needed
        ) or "false"
        return f"""CASE
        WHEN event_id IS NULL THEN 'missing_event_id'
        WHEN source_event_name IS NULL THEN 'missing_event_name'
        WHEN mapped_event_name IS NULL THEN 'unknown_event_name'
        WHEN event_time IS NULL THEN 'invalid_event_time'
        WHEN event_time < {oldest} THEN 'too_old'
        WHEN event_time > {latest} THEN 'in_future'
        WHEN action_source IS NULL THEN 'missing_action_source'
        WHEN NOT list_contains({action_sources}, action_source) THEN 'invalid_action_source'
        WHEN NOT ({identifier}) THEN 'missing_identifier'
    END"""

    def detail(self) -> str:
        """A readable explanation of `reason` that never quotes personal data."""
        p = self.params
        max_age = _describe_duration(self.config.max_event_age)
        skew = _describe_duration(self.config.max_future_skew)
        p.bind("taxonomy", self.config.taxonomy)
        p.bind("too_old_text", f" is more than {max_age} before the run's clock ({_iso(self.now)})")
        p.bind("in_future_text", f" is more than {skew} after the run's clock ({_iso(self.now)})")
        return """CASE reason
        WHEN 'missing_event_id' THEN 'event_id is NULL or empty'
        WHEN 'missing_event_name' THEN 'event_name is NULL or empty'
        WHEN 'unknown_event_name' THEN 'event name ' || to_json(source_event_name)
            || ' is not mapped by taxonomy ' || $taxonomy || ' or event_mapping'
        WHEN 'invalid_event_time' THEN CASE WHEN event_time_given
            THEN 'event_time is not a timestamp, epoch seconds/milliseconds or ISO-8601 text'
            ELSE 'event_time is NULL' END
        WHEN 'too_old' THEN 'event_time ' || strftime(to_timestamp(event_time), '%Y-%m-%dT%H:%M:%SZ') || $too_old_text
        WHEN 'in_future' THEN 'event_time ' || strftime(to_timestamp(event_time), '%Y-%m-%dT%H:%M:%SZ') || $in_future_text
        WHEN 'missing_action_source' THEN 'action_source is NULL and no default_action_source is configured'
        WHEN 'invalid_action_source' THEN 'action_source ' || to_json(action_source)
            || ' is not one of app_android, app_ios, web, offline'
        WHEN 'missing_identifier' THEN 'user_data has no em, no hashed_maids and not both client_ip_address and client_user_agent'
    END"""

    def checked(self) -> str:
        """The sendable rows of `fields` with their warnings and final currency."""
        return (
            f"SELECT *, {self._warnings()} AS warnings, {self.currency_sql()} AS currency\n"
            f"  FROM (SELECT *, {self.reason()} AS reason FROM fields) WHERE reason IS NULL"
        )

    def currency_sql(self) -> str:
        default_currency = self.params.bind("default_currency", self.config.default_currency, "VARCHAR")
        return (
            f"CASE WHEN currency_valid THEN currency_given "
            f"WHEN currency_given IS NULL AND value IS NOT NULL THEN {default_currency} END"
        )

    def _ldp_warning(self) -> str:
        st_ok = self._hash_contains("st", "state", "ca")
        country_ok = self._hash_contains("country", "country", "us")
        return (
            f"CASE WHEN pp_has_ldp(opt_out_type) AND NOT ({st_ok} AND {country_ok}) "
            f"THEN 'ldp_needs_st_and_country' END"
        )

    def _hash_contains(self, key: str, column: str, plaintext: str) -> str:
        """Whether the hashed field `key` holds the digest of `plaintext`."""
        if not self.has(column):
            return "false"
        digest = self.params.bind(f"sha256_{plaintext}", _sha256(plaintext))
        if self.kind(column) == contract.TEXT_LIST:
            return f"coalesce(list_contains(h_{key}, {digest}), false)"
        return f"coalesce(h_{key} = {digest}, false)"

    def _warnings(self) -> str:
        # Each check with the codes it can give (the macros' codes are those of the reference).
        checks = [
            (("value_not_numeric",), "CASE WHEN value_given AND value IS NULL THEN 'value_not_numeric' END"),
            (
                ("predicted_ltv_not_numeric",),
                "CASE WHEN predicted_ltv_given AND predicted_ltv IS NULL THEN 'predicted_ltv_not_numeric' END",
            ),
            (("currency_invalid",), "CASE WHEN currency_given IS NOT NULL AND NOT currency_valid THEN 'currency_invalid' END"),
        ]
        if self.has("opt_out_type"):
            checks.append((("ldp_needs_st_and_country",), self._ldp_warning()))
        if self.has("zip"):
            checks.append(
                (
                    (ZIP_MALFORMED,),
                    "CASE WHEN h_zp IS NULL AND zip_text IS NOT NULL "
                    "THEN pp__zp_warning_of(pp__sha256_hex(zip_text) IS NOT NULL, pp_zip_f, region) END",
                )
            )
        if self.has("phone") and self.kind("phone") != contract.TEXT_LIST:
            checks.append(
                (
                    (PHONE_INVALID_LENGTH, PHONE_WITHOUT_COUNTRY_CODE),
                    "CASE WHEN h_ph IS NULL AND phone_text IS NOT NULL "
                    "THEN pp__ph_warning_of(pp__sha256_hex(phone_text) IS NOT NULL, pp_phone_t, pp_phone_r) END",
                )
            )
        if self.has("num_items"):
            checks.append(
                (("num_items_not_integer",), "CASE WHEN num_items_given AND num_items IS NULL THEN 'num_items_not_integer' END")
            )
        if self.has("products"):
            checks.append(
                (
                    ("item_price_not_numeric",),
                    "CASE WHEN list_bool_or(list_transform(products, lambda p: p.price_given AND p.item_price IS NULL)) "
                    "THEN 'item_price_not_numeric' END",
                )
            )
            checks.append(
                (
                    ("quantity_not_integer",),
                    "CASE WHEN list_bool_or(list_transform(products, lambda p: p.quantity_given AND p.quantity IS NULL)) "
                    "THEN 'quantity_not_integer' END",
                )
            )
        if self.has("phone") and self.kind("phone") == contract.TEXT_LIST:
            codes = f"list_concat([{', '.join(sql for _, sql in checks)}], phone_warnings)"
            return f"pp_nonempty(list_sort(list_distinct(list_filter({codes}, lambda w: w IS NOT NULL))))"
        # Every check gives a different code, so listed in the order of their codes they need no
        # sorting or de-duplication: joining the non-NULL ones and splitting the text again
        # builds the list without filtering the codes one by one. A row without warnings joins
        # to '', which splits to ['']; a one-element lambda makes that NULL and reads the text
        # once (a CASE on it would build the text twice for every row with a warning).
        checks.sort(key=lambda check: check[0])
        assert all(a[-1] < b[0] for (a, _), (b, _) in zip(checks, checks[1:])), "warning codes overlap"
        joined = f"concat_ws(',', {', '.join(sql for _, sql in checks)})"
        return f"list_filter([string_split({joined}, ',')], lambda pp_w: pp_w <> [''])[1]"

    # -- stage 4 ---------------------------------------------------------------------------

    def event_json(self, *, line_terminated: bool = False) -> str:
        # `pp_plain_str_field` for the values that never need escaping: event_name and
        # action_source (checked against their sets), partner_name (checked at load), language and
        # currency codes (checked against ISO lists), amounts (plain decimals built here).
        partner_name = self.params.bind("partner_name", self.config.partner_name, "VARCHAR")
        top = [
            "pp_plain_str_field('event_name', mapped_event_name)",
            "pp_plain_str_field('action_source', action_source)",
            "pp_raw_field('event_time', event_time)",
            "pp_str_field('event_id', event_id)",
        ]
        if self.has("event_source_url"):
            top.append("pp_str_field('event_source_url', event_source_url)")
        if self.has("opt_out"):
            top.append("pp_raw_field('opt_out', opt_out)")
        top.append(f"pp_plain_str_field('partner_name', {partner_name})")
        for name in APP_DEVICE_FIELDS:
            if self.has(name):
                top.append(f"pp_str_field('{name}', {name})")
        if self.has("wifi"):
            top.append("pp_raw_field('wifi', wifi)")
        if self.has("language"):
            top.append("pp_plain_str_field('language', language)")
        # One concat builds the event: user_data (never empty on a sendable row: the identifier
        # rule) and custom_data (left out when empty) come last, so the large user_data string is
        # copied once rather than through nested concatenations.
        user_data = f"concat_ws(',', {', '.join(self._user_data())})"
        custom_data = f"',\"custom_data\":{{' || nullif(concat_ws(',', {', '.join(self._custom_data())}), '') || '}}'"
        end = "'}', chr(10)" if line_terminated else "'}'"
        return f"concat('{{', concat_ws(',', {', '.join(top)}), ',\"user_data\":{{', {user_data}, '}}', {custom_data}, {end})"

    def _user_data(self) -> list[str]:
        fragments = []
        for column, key, _macro, _region in HASHED_FIELDS:
            if self.has(column):
                builder = "pp_hash_list_field" if self.kind(column) == contract.TEXT_LIST else "pp_hash_field"
                fragments.append(f"{builder}('{key}', h_{key})")
        for name in PLAIN_USER_FIELDS:
            if self.has(name) or (name == "click_id" and self.has("event_source_url")):
                fragments.append(f"pp_str_field('{name}', {name})")
        return fragments

    def _custom_data(self) -> list[str]:
        fragments = [
            "pp_plain_str_field('value', value)",
            "pp_plain_str_field('currency', currency)",
        ]
        if self.has("products"):
            fragments.append(
                "CASE WHEN len(list_filter(products, lambda p: p.id IS NOT NULL)) > 0 THEN '\"content_ids\":' || "
                "CAST(to_json(list_transform(list_filter(products, lambda p: p.id IS NOT NULL), lambda p: p.id)) AS VARCHAR) END"
            )
            content = (
                "concat_ws(',', pp_str_field('id', p.id), pp_plain_str_field('item_price', p.item_price), "
                "pp_raw_field('quantity', p.quantity), pp_str_field('item_name', p.item_name), "
                "pp_str_field('item_category', p.item_category), pp_str_field('item_brand', p.item_brand))"
            )
            contents = f"list_filter(list_transform(products, lambda p: {content}), lambda c: c <> '')"
            fragments.append(
                f"CASE WHEN len({contents}) > 0 THEN '\"contents\":[{{' || array_to_string({contents}, '}},{{') || '}}]' END"
            )
        product_quantity = (
            "CASE WHEN list_bool_or(list_transform(products, lambda p: p.quantity IS NOT NULL)) "
            "THEN list_sum(list_transform(products, lambda p: p.quantity)) END"
        )
        if self.has("num_items") and self.has("products"):
            fragments.append(f"pp_raw_field('num_items', coalesce(num_items, {product_quantity}))")
        elif self.has("num_items"):
            fragments.append("pp_raw_field('num_items', num_items)")
        elif self.has("products"):
            fragments.append(f"pp_raw_field('num_items', {product_quantity})")
        for name in CUSTOM_TEXT_FIELDS:
            if self.has(name):
                fragments.append(f"pp_str_field('{name}', {name})")
        if self.has("opt_out_type"):
            fragments.append("pp_str_field('opt_out_type', opt_out_type)")
        fragments.append("pp_plain_str_field('predicted_ltv', predicted_ltv)")
        return fragments


@dataclass(frozen=True)
class RowCheckQuery:
    """The row checks: the query, its bound values, and the session variables (name -> SELECT of a
    MAP) to set, with the same bound values, before it runs."""

    sql: str
    parameters: dict[str, Any]
    lookups: dict[str, str] = field(default_factory=dict)

    def set_lookups(self, con: duckdb.DuckDBPyConnection) -> None:
        for name, select in self.lookups.items():
            statement = f"SET VARIABLE {name} = ({select})"
            con.execute(statement, used_parameters(statement, self.parameters))


def build_row_check_query(
    source: str, position: str, columns: SourceColumns, config: PipelineConfig, now: datetime
) -> RowCheckQuery:
    """The SELECT yielding one narrow row per row of `source`, in its order: source_row, event_id,
    event_name (mapped; NULL when unknown), reason (NULL for a row to send), detail and
    partition_day. `position` is the SQL of a row's 0-based place in `source`."""
    builder = _Builder(columns, config, now)
    lookups = builder.lookups(source)
    numbered = builder.numbered(source, position)
    fields = builder.fields(ROW_CHECK_FIELDS)
    reason = builder.reason()
    detail = builder.detail()
    sql = f"""WITH numbered AS NOT MATERIALIZED (
{numbered}
), fields AS NOT MATERIALIZED (
{fields}
), checked AS NOT MATERIALIZED (
SELECT *, {reason} AS reason FROM fields
)
SELECT source_row, event_id, mapped_event_name AS event_name, reason, {detail} AS detail,
       {builder.partition_day()} AS partition_day
  FROM checked"""
    return RowCheckQuery(sql, used_parameters(sql, builder.params.values), lookups)


def build_event_json_query(
    source: str,
    position: str,
    columns: SourceColumns,
    config: PipelineConfig,
    now: datetime,
    *,
    line_terminated: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The SELECT of the events, in input order: source_row, event_id, event_name, event_time,
    partition_day, action_source, event_json and warnings, for the rows of `source` without a
    reject reason (in-run duplicates included: the row checks find those), and its bound values.
    It reads the lookups the row checks set. `line_terminated` ends every event_json with a
    newline, as an NDJSON file holds it."""
    builder = _Builder(columns, config, now)
    numbered = builder.numbered(source, position)
    prepared = builder.prepared()
    fields = builder.fields(stage="prepared")
    checked = builder.checked()
    event_json = builder.event_json(line_terminated=line_terminated)
    sql = f"""WITH numbered AS NOT MATERIALIZED (
{numbered}
), prepared AS NOT MATERIALIZED (
{prepared}
), fields AS NOT MATERIALIZED (
{fields}
), checked AS NOT MATERIALIZED (
{checked}
)
SELECT source_row, event_id, mapped_event_name AS event_name, event_time, {builder.partition_day()} AS partition_day,
       action_source, {event_json} AS event_json, warnings
  FROM checked"""
    return sql, used_parameters(sql, builder.params.values)


def _state_key(region_sql: str, state_sql: str) -> str:
    """The key of a state in its lookup: region codes never hold `|`, so the key is unambiguous."""
    return f"coalesce({region_sql}, '') || '|' || {state_sql}"


def _describe_duration(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
