"""The typed settings of one pipeline instance, shared by the factory and the component's YAML.

Each is a `dg.Model` (pydantic, unknown keys refused), so a wrong attribute fails `dg check defs`
or the factory call with its name. Nothing here reads the environment: the token is given as the
NAME of the variable that holds it, bound as `dg.EnvVar` when the resources are made.
"""

from __future__ import annotations

import re
from datetime import date

import dagster as dg
from pydantic import Field, field_validator, model_validator

from pinterest_pipeline.delivery.target import DEFAULT_API_URL, TOKEN_ENV_VAR

DEFAULT_STATE = ".pinterest_pipeline/pipeline.duckdb"
# The pool every step that opens a DuckDB-file state belongs to: limit it to 1 in the instance
# (`dagster instance concurrency set pinterest_pipeline_db 1`) so steps queue instead of waiting on the file lock.
DEFAULT_POOL = "pinterest_pipeline_db"


def upload_pool_name(ad_account_id: str) -> str:
    """With a PostgreSQL state only the upload is pooled, per ad account (the rate limit is per account).
    A routed instance passes its accounts joined by `_`: its uploads send them one after another."""
    return f"pinterest_ad_account_{ad_account_id}"


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _is_template(value: object) -> bool:
    """A `{{ ... }}` template: `dg` validates the YAML before it renders templates, and again after."""
    return isinstance(value, str) and "{{" in value


class PinterestApiSettings(dg.Resolvable, dg.Model):
    """The ad account events go to, and how."""

    ad_account_id: str | None = Field(
        default=None, description="Pinterest ad account id (digits) that receives the events; or give `accounts`."
    )
    accounts: dict[str, str] | None = Field(
        default=None,
        description="For an instance whose rows carry their ad account (the `routing` setting or an ad_account_id"
        " column): ad account id -> NAME of the variable holding its token, each bound as dg.EnvVar.",
    )
    access_token_env: str = Field(
        default=TOKEN_ENV_VAR,
        description="NAME of the environment variable holding the access token (bound as dg.EnvVar; the value"
        " never appears in config, the UI or logs).",
    )
    api_url: str = Field(default=DEFAULT_API_URL, description="API base URL; the local fake for rehearsals.")
    test_mode: bool = Field(default=False, description="Send with ?test=true: Pinterest validates, records nothing.")

    @field_validator("ad_account_id", mode="before")
    @classmethod
    def _digits(cls, value: object) -> str | None:
        if value is None or _is_template(value):
            return value  # type: ignore[return-value]
        text = str(value).strip() if value is not None else ""
        if not re.fullmatch(r"\d{1,18}", text):
            raise ValueError(f"must be 1 to 18 digits, got {value!r}")
        return text

    @field_validator("access_token_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if _is_template(value):
            return value  # type: ignore[return-value]
        if not _ENV_NAME.fullmatch(value):
            raise ValueError(
                f"must be the name of an environment variable (e.g. PINTEREST_ACCESS_TOKEN), not a token: got a"
                f" value of {len(value)} characters"
            )
        return value

    @field_validator("accounts")
    @classmethod
    def _account_tokens(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("must map at least one ad account id to the NAME of its token's variable")
        for account, env_name in value.items():
            if _is_template(account) or _is_template(env_name):
                continue
            if not re.fullmatch(r"\d{1,18}", account):
                raise ValueError(f"ad account id must be 1 to 18 digits, got {account!r}")
            if not _ENV_NAME.fullmatch(env_name):
                raise ValueError(
                    f"the token of ad account {account} must be given as the NAME of an environment variable,"
                    f" not a token: got a value of {len(env_name)} characters"
                )
        return value

    @model_validator(mode="after")
    def _one_account_or_a_map(self) -> PinterestApiSettings:
        if (self.ad_account_id is None) == (self.accounts is None):
            raise ValueError("give either ad_account_id (one account) or accounts (ad account id -> token variable)")
        return self

    @property
    def token_envs(self) -> dict[str, str]:
        """Ad account id -> the NAME of its token's variable, for one account or several."""
        if self.accounts is not None:
            return dict(self.accounts)
        return {self.ad_account_id: self.access_token_env}  # type: ignore[dict-item]

    @field_validator("api_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if _is_template(value):
            return value  # type: ignore[return-value]
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value


class PartitionsSettings(dg.Resolvable, dg.Model):
    """The instance's daily partitions: a `DailyPartitionsDefinition`."""

    start_date: str = Field(description="First partition, YYYY-MM-DD.")
    timezone: str = Field(default="UTC", description="IANA time zone of the days (and of the schedule).")

    @field_validator("start_date", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> str:
        if _is_template(value):
            return value  # type: ignore[return-value]
        text = value.isoformat() if isinstance(value, date) else str(value)
        try:
            date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}") from None
        return text

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        if _is_template(value):
            return value  # type: ignore[return-value]
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not an IANA time zone: {value!r}") from None
        return value


class ScheduleSettings(dg.Resolvable, dg.Model):
    """When the daily schedule sends yesterday, in the partitions' time zone."""

    hour_of_day: int = Field(default=2, description="Hour of the daily run, 0-23.")
    minute_of_hour: int = Field(default=0, description="Minute of the daily run, 0-59.")
    running: bool = Field(default=False, description="Start the schedule turned on (off by default).")

    # Plain validators, not Field(ge=...): the component's YAML schema admits no constrained types.
    @field_validator("hour_of_day")
    @classmethod
    def _hour(cls, value: int) -> int:
        if _is_template(value):
            return value  # type: ignore[return-value]
        if not 0 <= value <= 23:
            raise ValueError(f"must be 0 to 23, got {value}")
        return value

    @field_validator("minute_of_hour")
    @classmethod
    def _minute(cls, value: int) -> int:
        if _is_template(value):
            return value  # type: ignore[return-value]
        if not 0 <= value <= 59:
            raise ValueError(f"must be 0 to 59, got {value}")
        return value


class WarehouseSettings(dg.Resolvable, dg.Model):
    """The company's warehouse the extract SQL reads: one of a DuckDB file (`path`), files the DuckDB
    SQL reads itself (nothing set), anything DuckDB attaches (`attach` + `setup`), or a database
    read through ADBC (`adbc_driver` + `uri_env`). See docs/warehouses.md."""

    path: str | None = Field(default=None, description="A DuckDB file, attached READ_ONLY as `warehouse`.")
    attach: str | None = Field(
        default=None, description="What DuckDB ATTACHes READ_ONLY as `warehouse`; ${NAME} reads the environment."
    )
    setup: list[str] = Field(
        default_factory=list, description="DuckDB statements run before every extract; ${NAME} reads the environment."
    )
    adbc_driver: str | None = Field(
        default=None,
        description="ADBC driver (postgresql, sqlite, snowflake, bigquery): the SQL runs in the warehouse.",
    )
    uri_env: str | None = Field(
        default=None,
        description="NAME of the environment variable holding the ADBC URI (default PINTEREST_WAREHOUSE_URI).",
    )
