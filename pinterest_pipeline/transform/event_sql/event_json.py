"""The event JSON of a sendable row, built as text by one concatenation of `"key":value` fragments
(the `pp_*_field` macros of `transform.payload`), in Pinterest's key order."""

from __future__ import annotations

from pinterest_pipeline.event_fields import APP_DEVICE_FIELDS, CLEAR_USER_FIELDS, CUSTOM_TEXT_FIELDS, HASHED_FIELDS
from pinterest_pipeline.transform import contract
from pinterest_pipeline.transform.event_sql.context import QueryContext


def event_json(q: QueryContext, *, line_terminated: bool = False) -> str:
    # `pp_plain_str_field` for the values that never need escaping: event_name and
    # action_source (checked against their sets), partner_name (checked at load), language and
    # currency codes (checked against ISO lists), amounts (plain decimals built here).
    partner_name = q.params.bind("partner_name", q.config.partner_name, "VARCHAR")
    top = [
        "pp_plain_str_field('event_name', mapped_event_name)",
        "pp_plain_str_field('action_source', action_source)",
        "pp_raw_field('event_time', event_time)",
        "pp_str_field('event_id', event_id)",
    ]
    if q.has("event_source_url"):
        top.append("pp_str_field('event_source_url', event_source_url)")
    if q.has("opt_out"):
        top.append("pp_raw_field('opt_out', opt_out)")
    top.append(f"pp_plain_str_field('partner_name', {partner_name})")
    for name in APP_DEVICE_FIELDS:
        if q.has(name):
            top.append(f"pp_str_field('{name}', {name})")
    if q.has("wifi"):
        top.append("pp_raw_field('wifi', wifi)")
    if q.has("language"):
        top.append("pp_plain_str_field('language', language)")
    # One concat builds the event: user_data (never empty on a sendable row: the identifier
    # rule) and custom_data (left out when empty) come last, so the large user_data string is
    # copied once rather than through nested concatenations.
    user_data = f"concat_ws(',', {', '.join(_user_data(q))})"
    custom_data = f"',\"custom_data\":{{' || nullif(concat_ws(',', {', '.join(_custom_data(q))}), '') || '}}'"
    end = "'}', chr(10)" if line_terminated else "'}'"
    return (
        f"concat('{{', concat_ws(',', {', '.join(top)}), "
        f"',\"user_data\":{{', {user_data}, '}}', {custom_data}, {end})"
    )


def _user_data(q: QueryContext) -> list[str]:
    fragments = []
    for hashed in HASHED_FIELDS:
        if q.has(hashed.column):
            builder = "pp_hash_list_field" if q.kind(hashed.column) == contract.TEXT_LIST else "pp_hash_field"
            fragments.append(f"{builder}('{hashed.key}', h_{hashed.key})")
    for name in CLEAR_USER_FIELDS:
        if q.has(name) or (name == "click_id" and q.has("event_source_url")):
            fragments.append(f"pp_str_field('{name}', {name})")
    return fragments


def _custom_data(q: QueryContext) -> list[str]:
    fragments = [
        "pp_plain_str_field('value', value)",
        "pp_plain_str_field('currency', currency)",
    ]
    if q.has("products"):
        fragments.append(
            "CASE WHEN len(list_filter(products, lambda p: p.id IS NOT NULL)) > 0 THEN '\"content_ids\":' || "
            "CAST(to_json(list_transform(list_filter(products, lambda p: p.id IS NOT NULL), lambda p: p.id)) "
            "AS VARCHAR) END"
        )
        content = (
            "concat_ws(',', pp_str_field('id', p.id), pp_plain_str_field('item_price', p.item_price), "
            "pp_raw_field('quantity', p.quantity), pp_str_field('item_name', p.item_name), "
            "pp_str_field('item_category', p.item_category), pp_str_field('item_brand', p.item_brand))"
        )
        contents = f"list_filter(list_transform(products, lambda p: {content}), lambda c: c <> '')"
        fragments.append(
            f"CASE WHEN len({contents}) > 0 "
            f"THEN '\"contents\":[{{' || array_to_string({contents}, '}},{{') || '}}]' END"
        )
    product_quantity = (
        "CASE WHEN list_bool_or(list_transform(products, lambda p: p.quantity IS NOT NULL)) "
        "THEN list_sum(list_transform(products, lambda p: p.quantity)) END"
    )
    if q.has("num_items") and q.has("products"):
        fragments.append(f"pp_raw_field('num_items', coalesce(num_items, {product_quantity}))")
    elif q.has("num_items"):
        fragments.append("pp_raw_field('num_items', num_items)")
    elif q.has("products"):
        fragments.append(f"pp_raw_field('num_items', {product_quantity})")
    for name in CUSTOM_TEXT_FIELDS:
        if q.has(name):
            fragments.append(f"pp_str_field('{name}', {name})")
    if q.has("opt_out_type"):
        fragments.append("pp_str_field('opt_out_type', opt_out_type)")
    fragments.append("pp_plain_str_field('predicted_ltv', predicted_ltv)")
    return fragments
