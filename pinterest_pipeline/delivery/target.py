"""Where events go: one ad account of the Pinterest API, in production or test mode."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pinterest_pipeline.config import ConfigError

DEFAULT_API_URL = "https://api.pinterest.com"
TOKEN_ENV_VAR = "PINTEREST_ACCESS_TOKEN"
API_URL_ENV_VAR = "PINTEREST_API_URL"

# Pinterest's ad account ids are strings of digits, at most 18 characters (spec 5.23).
_AD_ACCOUNT_ID = re.compile(r"\d{1,18}")


@dataclass(frozen=True)
class PinterestTarget:
    """The ad account events are sent to, with the credentials to do so.

    The access token is excluded from `repr()` and `str()`, so a target can be logged, shown in
    Dagster metadata or put in an exception message without leaking it.

    Example:
        >>> PinterestTarget("549755885175", "secret-token", test_mode=True)
        PinterestTarget(ad_account_id='549755885175', api_url='https://api.pinterest.com', test_mode=True)
    """

    ad_account_id: str
    access_token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    test_mode: bool = False

    def __post_init__(self) -> None:
        if not _AD_ACCOUNT_ID.fullmatch(self.ad_account_id or ""):
            raise ConfigError(f"ad account id must be 1 to 18 digits, got {self.ad_account_id!r}")
        if not self.access_token or not self.access_token.strip():
            raise ConfigError(f"no access token: set {TOKEN_ENV_VAR}")
        if not self.api_url.startswith(("http://", "https://")):
            raise ConfigError(f"API URL must start with http:// or https://, got {self.api_url!r}")

    @property
    def events_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/v5/ad_accounts/{self.ad_account_id}/events"

    @property
    def query_params(self) -> dict[str, str]:
        # `test` must be false or absent in production (docs/delivery.md), so it is only ever sent as true.
        return {"test": "true"} if self.test_mode else {}

    def request_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", "Content-Type": "application/json"}

    def redact(self, text: str) -> str:
        """`text` with any occurrence of the token masked: for messages built from server answers."""
        return text.replace(self.access_token, "***") if text else text
