"""Event names: Pinterest's allowed names and the source-name presets (DESIGN §4.2).

Being filled in: presets from ../shared/seeds, the lookup and the unknown-name policy.
"""

# Spec 5.23 names plus the seven more Pinterest's docs list and partners send (PINTEREST_API.md §2).
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
