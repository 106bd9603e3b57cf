"""The fields of a Pinterest event, in one place: the table every other module reads.

The transform's SQL (`transform.event_sql`), the normalization macros (`transform.normalize.sql`),
the configuration (`config.ActionSource`), the asset checks and the Dagster metadata all take their
field names from here, so that adding or renaming a field is one edit. See docs/rules.md for what
each field's normalization does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HashedField:
    """A hashed `user_data` key: a JSON array of lowercase hex SHA-256 digests.

    `column` is the source contract column it is read from; `macro` names the DuckDB macros of
    its rule (`pp_hash_<macro>` gives the digest, `pp_normalize_<macro>` the plaintext it is taken
    of); `region_parameter` is the name of those macros' second parameter, the row's resolved
    country code, for the rules that depend on the country (phone, state, ZIP), else None.
    """

    column: str
    key: str
    macro: str
    region_parameter: str | None = None

    @property
    def takes_region(self) -> bool:
        return self.region_parameter is not None


# In the order the keys appear in an event's `user_data`.
HASHED_FIELDS = (
    HashedField("email", "em", "em"),
    HashedField("phone", "ph", "ph", region_parameter="region"),
    HashedField("gender", "ge", "ge"),
    HashedField("date_of_birth", "db", "db"),
    HashedField("last_name", "ln", "ln"),
    HashedField("first_name", "fn", "fn"),
    HashedField("city", "ct", "ct"),
    HashedField("state", "st", "st", region_parameter="country"),
    HashedField("zip", "zp", "zp", region_parameter="country"),
    HashedField("country", "country", "country"),
    HashedField("external_id", "external_id", "external_id"),
    HashedField("maid", "hashed_maids", "maid"),
)

# Pinterest's hashed `user_data` keys, in event order.
HASHED_USER_FIELDS = tuple(field.key for field in HASHED_FIELDS)

# Sent in clear by design (the source column has the key's name); still personal data, so never
# shown in metadata or previews.
CLEAR_USER_FIELDS = ("client_ip_address", "client_user_agent", "click_id", "partner_id")

# Top-level app and device fields, passed through as text (the source column has the key's name).
APP_DEVICE_FIELDS = (
    "app_id", "app_name", "app_version", "device_brand", "device_carrier", "device_model", "device_type", "os_version",
)

# `custom_data` keys passed through as text (the source column has the key's name).
CUSTOM_TEXT_FIELDS = ("order_id", "search_string", "content_name", "content_category", "content_brand")

# The `action_source` values Pinterest accepts; any other is rejected.
ACTION_SOURCES = ("app_android", "app_ios", "web", "offline")


def user_data_path(field: str) -> str:
    """JSON path of a `user_data` key; `field` is one of the constants above, never input data."""
    if field not in HASHED_USER_FIELDS and field not in CLEAR_USER_FIELDS:
        raise ValueError(f"not a user_data field: {field!r}")
    return f"$.user_data.{field}"
