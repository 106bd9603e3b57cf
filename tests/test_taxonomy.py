"""Event-name taxonomy (docs/rules.md#event-names): presets from the seeds, key normalization, the default
preset's conflict rule, page views, user mappings and the unknown-name policy."""

from __future__ import annotations

import duckdb
import pytest

from pinterest_pipeline import taxonomy
from pinterest_pipeline.taxonomy import (
    DEFAULT_CONFLICTS,
    KEYED_PRESETS,
    PINTEREST_EVENT_NAMES,
    PRESET_NAMES,
    event_key,
    event_key_sql,
    map_event_name,
    mapping_rows,
)


@pytest.mark.parametrize(
    "spelling", ["AddToCart", "Add To Cart", "add_to_cart", "add-to-cart", "ADD TO CART", " add.to.cart "]
)
def test_spellings_of_one_name_share_a_key(spelling):
    assert event_key(spelling) == "addtocart"


@pytest.mark.parametrize("name", ["AddToCart", "Add To Cart", "add-to-cart", "Product Added", "Größe Ändern", "page_view 2"])
def test_sql_key_matches_python_key(name):
    (key,) = duckdb.connect().execute(f"SELECT {event_key_sql('$name')}", {"name": name}).fetchone()
    assert key == event_key(name)


@pytest.mark.parametrize(
    ("preset", "source_name", "expected"),
    [
        # seeds/001 Segment presets and the ecommerce spec names of docs/rules.md#event-names
        ("segment", "Order Completed", "checkout"),
        ("segment", "Product Added", "add_to_cart"),
        ("segment", "Products Searched", "search"),
        ("segment", "Product List Filtered", "search"),
        ("segment", "Signed Up", "signup"),
        ("segment", "Checkout Started", "initiate_checkout"),
        ("segment", "Generate Lead", "lead"),
        ("segment", "Product Video Watched", "watch_video"),
        ("segment", "Product Category Viewed", "view_category"),
        ("segment", "Trial Started", "start_trial"),
        ("segment", "Application Opened", "app_open"),
        # seeds/002 RudderStack: ecommerce table and its standard tag names
        ("rudderstack", "Order Completed", "checkout"),
        ("rudderstack", "Product List Filtered", "search"),
        ("rudderstack", "AddToCart", "add_to_cart"),
        ("rudderstack", "SignUp", "signup"),
        ("rudderstack", "PageVisit", "page_visit"),
        # seeds/003 Commanders Act: many-to-one table
        ("commanders_act", "purchase", "checkout"),
        ("commanders_act", "buy", "checkout"),
        ("commanders_act", "pay", "checkout"),
        ("commanders_act", "payment", "checkout"),
        ("commanders_act", "generate_lead", "lead"),
        ("commanders_act", "contact", "lead"),
        ("commanders_act", "completeregistration", "signup"),
        ("commanders_act", "view_item_list", "view_category"),
        ("commanders_act", "view_item", "page_visit"),
        ("commanders_act", "refund", "custom"),
        ("commanders_act", "add_to_wishlist", "custom"),
        # seeds/004 Chord
        ("chord", "Checkout Started", "initiate_checkout"),
        ("chord", "Product Viewed", "view_content"),
        ("chord", "Product Added to Wishlist", "add_to_wishlist"),
        # seeds/000 Customer.io
        ("customerio", "addtocart", "add_to_cart"),
        ("customerio", "Order Completed", "checkout"),
        # Pinterest names pass through
        ("pinterest", "add_to_wishlist", "add_to_wishlist"),
        ("pinterest", "submit_application", "submit_application"),
        # default: union of the presets
        ("default", "Order Completed", "checkout"),
        ("default", "purchase", "checkout"),
        ("default", "Product Viewed", "view_content"),
        ("default", "Trial Started", "start_trial"),
        ("default", "Add To Cart", "add_to_cart"),
        ("default", "lead", "lead"),
    ],
)
def test_preset_maps_source_name(preset, source_name, expected):
    assert map_event_name(source_name, preset=preset) == expected


def test_default_drops_names_two_presets_map_differently():
    # Commanders Act sends these to other Pinterest names than the Pinterest preset does.
    assert DEFAULT_CONFLICTS == {
        "addpaymentinfo", "addtowishlist", "contact", "findlocation", "submitapplication", "viewcontent",
    }
    for key in DEFAULT_CONFLICTS:
        assert key not in KEYED_PRESETS["default"]
    assert map_event_name("contact", preset="default") == "custom"
    assert map_event_name("contact", preset="default", unknown_events="reject") is None


def test_every_preset_targets_only_pinterest_names():
    assert set(KEYED_PRESETS) == PRESET_NAMES
    for preset, table in KEYED_PRESETS.items():
        assert set(table.values()) - {taxonomy.PAGE_VIEW} <= PINTEREST_EVENT_NAMES, preset


@pytest.mark.parametrize("page_name", ["page", "Page Viewed", "page_view", "PageView"])
@pytest.mark.parametrize(("has_category", "expected"), [(True, "view_category"), (False, "page_visit")])
def test_page_views_depend_on_content_category(page_name, has_category, expected):
    assert map_event_name(page_name, has_content_category=has_category) == expected


@pytest.mark.parametrize(
    ("name", "user_mapping", "unknown_events", "expected"),
    [
        ("Loyalty Joined", {}, "custom", "custom"),
        ("Loyalty Joined", {}, "reject", None),
        ("Loyalty Joined", {"loyalty_joined": "signup"}, "reject", "signup"),
        ("Order Completed", {"Order Completed": "lead"}, "custom", "lead"),
        ("page", {"page": "page_visit"}, "custom", "page_visit"),
        ("contact", {"Contact": "contact"}, "reject", "contact"),
        (None, {}, "custom", None),
        ("  ", {}, "custom", None),
    ],
)
def test_user_mapping_and_unknown_policy(name, user_mapping, unknown_events, expected):
    got = map_event_name(
        name, user_mapping=user_mapping, unknown_events=unknown_events, has_content_category=True
    )
    assert got == expected


def test_mapping_rows_mark_page_views_and_apply_the_user_mapping():
    rows = {row.event_key: row for row in mapping_rows("default", {"Custom Thing": "lead"})}
    assert rows["page"] == taxonomy.MappingRow("page", "page_visit", True)
    assert rows["ordercompleted"] == taxonomy.MappingRow("ordercompleted", "checkout", False)
    assert rows["customthing"] == taxonomy.MappingRow("customthing", "lead", False)
    assert len(rows) == len(KEYED_PRESETS["default"]) + 1


def test_mapping_to_a_non_pinterest_name_is_refused():
    with pytest.raises(ValueError, match="not a Pinterest event name"):
        list(mapping_rows("default", {"Order Completed": "purchase"}))
