"""Event names: Pinterest's allowed names and the source-name presets (docs/rules.md#event-names).

A source event name (`Order Completed`, `purchase`, `AddToCart`...) is looked up in a preset after
key normalization (case and separators ignored), a user mapping overrides the preset, and a name no
one maps follows the unknown-name policy: sent as `custom` or rejected. A raw source name is never
sent. The SQL transform looks source names up in `mapping_rows()` (bound into the query as a
DuckDB MAP); the key normalization has a SQL twin, `EVENT_KEY_SQL`, so both sides agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

# Spec 5.23 names plus the seven more Pinterest's docs list and partners send (docs/rules.md#event-names).
SPEC_EVENT_NAMES = frozenset(
    {
        "add_payment_info", "add_to_cart", "add_to_wishlist", "app_install", "checkout", "custom",
        "initiate_checkout", "lead", "page_visit", "search", "signup", "subscribe", "view_category",
        "view_content", "watch_video",
    }
)
DOCUMENTED_EXTRA_EVENT_NAMES = frozenset(
    {"app_open", "contact", "customize_product", "find_location", "schedule", "start_trial", "submit_application"}
)
PINTEREST_EVENT_NAMES = SPEC_EVENT_NAMES | DOCUMENTED_EXTRA_EVENT_NAMES

PRESET_NAMES = frozenset({"default", "segment", "rudderstack", "commanders_act", "chord", "customerio", "pinterest"})

# A page view becomes `view_category` when the row has a content_category, else `page_visit`
# (RudderStack's page rule, applied to every preset's page call).
PAGE_VIEW = "<page view>"

# The page-call names sources write to a warehouse for one page view (Segment/RudderStack/Chord
# `page` calls land as `page`/`Page Viewed`; Commanders Act names it `page_view`).
_PAGE_VIEW_NAMES = {"page": PAGE_VIEW, "Page Viewed": PAGE_VIEW, "page_view": PAGE_VIEW}

# seeds/001 (Segment, Pinterest Conversions API actions): the "Available Presets" table, plus the
# ecommerce/mobile spec names that Segment's destination maps onto its event
# list (Order Completed, Checkout Started, Product List Filtered, Trial Started, Application Opened...).
SEGMENT = {
    **_PAGE_VIEW_NAMES,
    "Product Category Viewed": "view_category",
    "Product Added": "add_to_cart",
    "Checkout": "checkout",
    "Order Completed": "checkout",
    "Checkout Started": "initiate_checkout",
    "Generate Lead": "lead",
    "Product Video Watched": "watch_video",
    "Signed Up": "signup",
    "Products Searched": "search",
    "Product List Filtered": "search",
    "Product Viewed": "view_content",
    "Product Added to Wishlist": "add_to_wishlist",
    "Payment Info Entered": "add_payment_info",
    "Application Installed": "app_install",
    "Application Opened": "app_open",
    "Trial Started": "start_trial",
}

# seeds/002 (RudderStack): the ecommerce table, the page rule, and the nine standard Pinterest
# events it accepts under their tag names (`AddToCart`, `SignUp`...).
RUDDERSTACK = {
    **_PAGE_VIEW_NAMES,
    "Order Completed": "checkout",
    "Product Added": "add_to_cart",
    "Products Searched": "search",
    "Product List Filtered": "search",
    "Checkout": "checkout",
    "AddToCart": "add_to_cart",
    "PageVisit": "page_visit",
    "SignUp": "signup",
    "WatchVideo": "watch_video",
    "Lead": "lead",
    "Search": "search",
    "ViewCategory": "view_category",
    "Custom": "custom",
}

# seeds/003 (Commanders Act): the "Quick reference" many-to-one table, row by row.
COMMANDERS_ACT = {
    "page_view": PAGE_VIEW,
    "view_item": "page_visit",
    "purchase": "checkout",
    "buy": "checkout",
    "pay": "checkout",
    "payment": "checkout",
    "add_to_cart": "add_to_cart",
    "addtocart": "add_to_cart",
    "search": "search",
    "find_location": "search",
    "generate_lead": "lead",
    "submit_application": "lead",
    "contact": "lead",
    "sign_up": "signup",
    "signup": "signup",
    "completeregistration": "signup",
    "view_item_list": "view_category",
    "viewcategory": "view_category",
    "viewcontent": "view_category",
    "watch_video": "watch_video",
    "watchvideo": "watch_video",
    **dict.fromkeys(
        [
            "add_payment_info", "add_shipping_info", "add_to_wishlist", "begin_checkout", "login", "refund",
            "remove_from_cart", "select_content", "select_item", "view_cart", "select_promotion", "view_promotion",
        ],
        "custom",
    ),
}

# seeds/004 (Chord CDP): the "event mapping" table (its other track events are forwarded under
# their raw name, which this product never does: they follow the unknown-name policy).
CHORD = {
    **_PAGE_VIEW_NAMES,
    "Order Completed": "checkout",
    "Checkout Started": "initiate_checkout",
    "Product Added": "add_to_cart",
    "Product Viewed": "view_content",
    "Products Searched": "search",
    "Product Added to Wishlist": "add_to_wishlist",
}

# seeds/000 (Customer.io Data Pipelines): the events it names (checkout, signup, lead, addtocart)
# and the Segment-compatible semantic ecommerce events its sources emit for them.
CUSTOMERIO = {
    **_PAGE_VIEW_NAMES,
    "checkout": "checkout",
    "signup": "signup",
    "lead": "lead",
    "addtocart": "add_to_cart",
    "Order Completed": "checkout",
    "Product Added": "add_to_cart",
    "Signed Up": "signup",
    "Generate Lead": "lead",
}

# Pinterest's own names pass through unchanged.
PINTEREST = {name: name for name in sorted(PINTEREST_EVENT_NAMES)}

SOURCE_PRESETS: dict[str, dict[str, str]] = {
    "segment": SEGMENT,
    "rudderstack": RUDDERSTACK,
    "commanders_act": COMMANDERS_ACT,
    "chord": CHORD,
    "customerio": CUSTOMERIO,
    "pinterest": PINTEREST,
}

_NOT_A_LETTER_OR_DIGIT = re.compile(r"[\W_]+")

# SQL twin of `event_key`: RE2's \p{L}\p{N} are the letters and digits Python's isalnum() keeps.
EVENT_KEY_SQL = r"regexp_replace(lower({name}), '[^\p{{L}}\p{{N}}]+', '', 'g')"


def event_key(name: str) -> str:
    """The lookup key of a source event name: lowercase, letters and digits only, so that
    `AddToCart`, `Add To Cart`, `add_to_cart` and `add-to-cart` are one key."""
    return _NOT_A_LETTER_OR_DIGIT.sub("", name.lower())


def event_key_sql(column_sql: str) -> str:
    """`event_key` as a DuckDB expression over `column_sql`."""
    return EVENT_KEY_SQL.format(name=column_sql)


def _keyed(table: Mapping[str, str]) -> dict[str, str]:
    keyed: dict[str, str] = {}
    for name, target in table.items():
        key = event_key(name)
        if keyed.setdefault(key, target) != target:
            raise ValueError(f"preset table maps {key!r} to both {keyed[key]!r} and {target!r}")
    return keyed


def _default_preset() -> tuple[dict[str, str], frozenset[str]]:
    """Union of all presets minus the keys two presets map to different Pinterest names."""
    union: dict[str, str] = {}
    conflicting: set[str] = set()
    for table in SOURCE_PRESETS.values():
        for key, target in _keyed(table).items():
            if union.setdefault(key, target) != target:
                conflicting.add(key)
    for key in conflicting:
        del union[key]
    return union, frozenset(conflicting)


_DEFAULT, DEFAULT_CONFLICTS = _default_preset()
KEYED_PRESETS: dict[str, dict[str, str]] = {name: _keyed(table) for name, table in SOURCE_PRESETS.items()}
KEYED_PRESETS["default"] = _DEFAULT


@dataclass(frozen=True)
class MappingRow:
    """One row of the event-name lookup the SQL transform uses."""

    event_key: str
    event_name: str
    page_view: bool  # True: `view_category` when the row has a content_category, else `event_name`


def resolve_mapping(preset: str, user_mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """Key -> Pinterest name (or `PAGE_VIEW`) for a preset with the user's mapping on top."""
    if preset not in KEYED_PRESETS:
        raise ValueError(f"unknown taxonomy {preset!r}; choose one of {', '.join(sorted(PRESET_NAMES))}")
    mapping = dict(KEYED_PRESETS[preset])
    for name, target in (user_mapping or {}).items():
        if target not in PINTEREST_EVENT_NAMES:
            raise ValueError(f"{name!r} maps to {target!r}, which is not a Pinterest event name")
        mapping[event_key(name)] = target
    return mapping


def mapping_rows(preset: str, user_mapping: Mapping[str, str] | None = None) -> Iterator[MappingRow]:
    """The resolved mapping as rows: what the SQL transform looks a row's `event_key` up in."""
    for key, target in sorted(resolve_mapping(preset, user_mapping).items()):
        if target == PAGE_VIEW:
            yield MappingRow(key, "page_visit", True)
        else:
            yield MappingRow(key, target, False)


def map_event_name(
    name: str | None,
    *,
    preset: str = "default",
    user_mapping: Mapping[str, str] | None = None,
    unknown_events: Literal["custom", "reject"] = "custom",
    has_content_category: bool = False,
) -> str | None:
    """The Pinterest name for one source name, or None when it is rejected (unmapped under the
    `reject` policy, or blank). The reference for what the SQL lookup does over a whole table."""
    if name is None or not event_key(name):
        return None
    target = resolve_mapping(preset, user_mapping).get(event_key(name))
    if target == PAGE_VIEW:
        return "view_category" if has_content_category else "page_visit"
    if target is None:
        return "custom" if unknown_events == "custom" else None
    return target
