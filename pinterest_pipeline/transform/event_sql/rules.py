"""The reject rules, the warnings and the final currency, over the `fields` stage.

A row's reason is the first rule that fails, in the order of `REJECT_REASONS` (see docs/rules.md);
its detail explains it without quoting personal data.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from pinterest_pipeline.event_fields import ACTION_SOURCES
from pinterest_pipeline.transform import contract
from pinterest_pipeline.transform.event_sql.context import QueryContext
from pinterest_pipeline.transform.normalize.reference import (
    PHONE_INVALID_LENGTH,
    PHONE_WITHOUT_COUNTRY_CODE,
    ZIP_MALFORMED,
)

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
    "no_ad_account",
    "duplicate_in_run",
)


def reason(q: QueryContext) -> str:
    """The reject reason of a row of `fields`: the first rule that fails, or NULL."""
    p = q.params
    now_s = int(q.now.timestamp())
    oldest = p.bind("oldest_s", now_s - int(q.config.max_event_age.total_seconds()), "BIGINT")
    latest = p.bind("latest_s", now_s + int(q.config.max_future_skew.total_seconds()), "BIGINT")
    action_sources = p.bind("action_sources", list(ACTION_SOURCES), "VARCHAR[]")
    identifier = " OR ".join(
        condition
        for condition, needed in (
            ("h_em IS NOT NULL", q.has("email")),
            ("h_hashed_maids IS NOT NULL", q.has("maid")),
            (
                "(client_ip_address IS NOT NULL AND client_user_agent IS NOT NULL)",
                q.has("client_ip_address") and q.has("client_user_agent"),
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
        WHEN NOT ({identifier}) THEN 'missing_identifier'{_no_ad_account_rule(q)}
    END"""


def _no_ad_account_rule(q: QueryContext) -> str:
    # Only a routed source has the rule, so the SQL of any other is unchanged.
    return "\n        WHEN ad_account_id IS NULL THEN 'no_ad_account'" if q.routed else ""


def _no_ad_account_detail(q: QueryContext) -> str:
    """Which source of the account failed, naming columns and config keys, never a row's value."""
    if not q.routed:
        return ""
    reasons = []
    if q.has("ad_account_id"):
        reasons.append("ad_account_id is NULL, empty or not 1 to 18 digits")
    if q.config.routing is not None:
        reasons.append(
            f"the value of routing column {q.config.routing.column!r} is NULL or not one of routing.accounts"
        )
    q.params.bind("no_ad_account_text", ", and ".join(reasons))
    return "\n        WHEN 'no_ad_account' THEN $no_ad_account_text"


def detail(q: QueryContext) -> str:
    """A readable explanation of `reason` that never quotes personal data."""
    p = q.params
    max_age = _describe_duration(q.config.max_event_age)
    skew = _describe_duration(q.config.max_future_skew)
    p.bind("taxonomy", q.config.taxonomy)
    p.bind("too_old_text", f" is more than {max_age} before the run's clock ({_iso(q.now)})")
    p.bind("in_future_text", f" is more than {skew} after the run's clock ({_iso(q.now)})")
    return f"""CASE reason
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
            || ' is not one of {", ".join(ACTION_SOURCES)}'
        WHEN 'missing_identifier' THEN 'user_data has no em, no hashed_maids and not both client_ip_address and client_user_agent'{_no_ad_account_detail(q)}
    END"""  # noqa: E501 (the SQL text is compared byte for byte by tests/test_golden_sql.py)


def checked(q: QueryContext) -> str:
    """The sendable rows of `fields` with their warnings and final currency."""
    return (
        f"SELECT *, {_warnings(q)} AS warnings, {_currency(q)} AS currency\n"
        f"  FROM (SELECT *, {reason(q)} AS reason FROM fields) WHERE reason IS NULL"
    )


def _currency(q: QueryContext) -> str:
    default_currency = q.params.bind("default_currency", q.config.default_currency, "VARCHAR")
    return (
        f"CASE WHEN currency_valid THEN currency_given "
        f"WHEN currency_given IS NULL AND value IS NOT NULL THEN {default_currency} END"
    )


def _ldp_warning(q: QueryContext) -> str:
    st_ok = _hash_contains(q, "st", "state", "ca")
    country_ok = _hash_contains(q, "country", "country", "us")
    return (
        f"CASE WHEN pp_has_ldp(opt_out_type) AND NOT ({st_ok} AND {country_ok}) "
        f"THEN 'ldp_needs_st_and_country' END"
    )


def _hash_contains(q: QueryContext, key: str, column: str, plaintext: str) -> str:
    """Whether the hashed field `key` holds the digest of `plaintext`."""
    if not q.has(column):
        return "false"
    digest = q.params.bind(f"sha256_{plaintext}", _sha256(plaintext))
    if q.kind(column) == contract.TEXT_LIST:
        return f"coalesce(list_contains(h_{key}, {digest}), false)"
    return f"coalesce(h_{key} = {digest}, false)"


def _warnings(q: QueryContext) -> str:
    # Each check with the codes it can give (the macros' codes are those of the reference).
    checks = [
        (("value_not_numeric",), "CASE WHEN value_given AND value IS NULL THEN 'value_not_numeric' END"),
        (
            ("predicted_ltv_not_numeric",),
            "CASE WHEN predicted_ltv_given AND predicted_ltv IS NULL THEN 'predicted_ltv_not_numeric' END",
        ),
        (
            ("currency_invalid",),
            "CASE WHEN currency_given IS NOT NULL AND NOT currency_valid THEN 'currency_invalid' END",
        ),
    ]
    if q.has("opt_out_type"):
        checks.append((("ldp_needs_st_and_country",), _ldp_warning(q)))
    if q.has("zip"):
        checks.append(
            (
                (ZIP_MALFORMED,),
                "CASE WHEN h_zp IS NULL AND zip_text IS NOT NULL "
                "THEN pp__zp_warning_of(pp__sha256_hex(zip_text) IS NOT NULL, pp_zip_f, region) END",
            )
        )
    if q.has("phone") and q.kind("phone") != contract.TEXT_LIST:
        checks.append(
            (
                (PHONE_INVALID_LENGTH, PHONE_WITHOUT_COUNTRY_CODE),
                "CASE WHEN h_ph IS NULL AND phone_text IS NOT NULL "
                "THEN pp__ph_warning_of(pp__sha256_hex(phone_text) IS NOT NULL, pp_phone_t, pp_phone_r) END",
            )
        )
    if q.has("num_items"):
        checks.append(
            (
                ("num_items_not_integer",),
                "CASE WHEN num_items_given AND num_items IS NULL THEN 'num_items_not_integer' END",
            )
        )
    if q.has("products"):
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
    if q.has("phone") and q.kind("phone") == contract.TEXT_LIST:
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
