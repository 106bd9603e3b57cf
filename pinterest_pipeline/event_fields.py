"""Which `user_data` fields of a Pinterest event are hashed, for metadata and checks that read `event_json`."""

from __future__ import annotations

# Pinterest's hashed `user_data` keys: each a JSON array of lowercase hex SHA-256 strings.
HASHED_USER_FIELDS = ("em", "ph", "hashed_maids", "external_id", "fn", "ln", "ge", "db", "ct", "st", "zp", "country")

# Sent in clear by design; still personal data, so never shown in metadata or previews.
CLEAR_USER_FIELDS = ("client_ip_address", "client_user_agent", "click_id", "partner_id")

ACTION_SOURCES = ("app_android", "app_ios", "web", "offline")


def user_data_path(field: str) -> str:
    """JSON path of a `user_data` key; `field` is one of the constants above, never input data."""
    if field not in HASHED_USER_FIELDS and field not in CLEAR_USER_FIELDS:
        raise ValueError(f"not a user_data field: {field!r}")
    return f"$.user_data.{field}"
