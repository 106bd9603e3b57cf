"""The pipeline's one typed configuration object; each field's description says what it sets.

Every knob of normalization, event mapping and delivery lives here, validated once at load so that a
bad value fails before any row is read, with the offending key named in the error.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pinterest_pipeline.errors import PipelineError
from pinterest_pipeline.event_fields import ACTION_SOURCES

# `Literal[a_tuple]` is `Literal[*a_tuple]`: the accepted values are those of the event field table.
ActionSource = Literal[ACTION_SOURCES]  # type: ignore[valid-type]

ENV_PREFIX = "PINTEREST_PIPELINE_"
DEFAULT_STATE_PATH = Path(".pinterest_pipeline/pipeline.duckdb")

_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)\s*$", re.IGNORECASE)
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ConfigError(PipelineError, ValueError):
    """A configuration value is invalid; the message names the key."""


def parse_duration(value: Any) -> Any:
    """Accept `7d`, `5m`, `12h`, `30s` besides what pydantic takes (seconds, ISO-8601 `P7D`)."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            amount, unit = int(match.group(1)), match.group(2)[0].lower()
            return timedelta(**{_DURATION_UNITS[unit]: amount})
    return value


# Pinterest's ad account ids are strings of digits, at most 18 characters (spec 5.23).
AD_ACCOUNT_ID_PATTERN = r"\d{1,18}"


class Routing(BaseModel):
    """Which ad account each row goes to, by the value of one source column (docs/accounts.md).

    Values are matched after trimming, case-insensitively: `US`, ` us` and `us` all go to the
    account of `us`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(description="The source column whose value picks the ad account, e.g. `country` or `brand`.")
    accounts: dict[str, str] = Field(description="Column value -> ad account id (1 to 18 digits).")

    @field_validator("column")
    @classmethod
    def _column_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a source column")
        return value.strip()

    @field_validator("accounts")
    @classmethod
    def _account_ids(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("must map at least one column value to an ad account id")
        accounts: dict[str, str] = {}
        for key, account in value.items():
            if not re.fullmatch(AD_ACCOUNT_ID_PATTERN, str(account)):
                raise ValueError(f"{key!r} maps to {account!r}; an ad account id is 1 to 18 digits")
            normalized = key.strip().lower()
            if normalized in accounts and accounts[normalized] != account:
                raise ValueError(f"{key!r} and another key are the same value once trimmed and lowercased")
            accounts[normalized] = str(account)
        return accounts


class PipelineConfig(BaseModel):
    """How warehouse rows become Pinterest events and how they are delivered.

    Nothing about a user's business is assumed: `default_country`, `default_currency` and
    `default_action_source` stay unset until configured.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_timezone: str = Field("UTC", description="IANA time zone in which naive warehouse timestamps are read.")
    partition_timezone: str = Field(
        "UTC", description="IANA time zone of the daily partitions; an event's partition day is its local date here."
    )
    default_country: str | None = Field(
        None, description="ISO-3166 alpha-2 country used for national phone numbers and ZIPs when a row has none."
    )
    default_currency: str | None = Field(
        None, description="ISO-4217 currency used when a row has a value but no currency."
    )
    default_action_source: ActionSource | None = Field(
        None, description="action_source for rows that have none; unset means such rows are rejected."
    )
    unknown_events: Literal["custom", "reject"] = Field(
        "custom", description="What happens to a source event name no taxonomy maps: send as `custom`, or reject."
    )
    taxonomy: str = Field(
        "default",
        description="Event-name preset: default, segment, rudderstack, commanders_act, chord, customerio, pinterest.",
    )
    event_mapping: dict[str, str] = Field(
        default_factory=dict, description="Source event name -> Pinterest event name; overrides the preset."
    )
    max_event_age: timedelta = Field(
        timedelta(days=7), description="Rows older than this (vs. the run's clock) are rejected `too_old`."
    )
    max_future_skew: timedelta = Field(
        timedelta(minutes=5), description="Rows further than this in the future are rejected `in_future`."
    )
    partner_name: str | None = Field(None, description="Third-party sender name, `ss-<lowercase>`.")
    chunk_size: int = Field(1000, ge=1, le=1000, description="Events per request (Pinterest accepts at most 1000).")
    concurrency: int = Field(4, ge=1, le=64, description="Requests in flight at once.")
    requests_per_minute: int = Field(5000, ge=1, description="Client-side limit per ad account, per rolling minute.")
    test_requests_per_second: int = Field(10, ge=1, description="Client-side limit for `?test=true` requests.")
    max_attempts: int = Field(
        6, ge=1, le=50, description="Attempts per request before its events are recorded failed_retryable."
    )
    request_timeout: float = Field(30.0, gt=0, description="Seconds before one request times out.")
    retry_backoff_base: float = Field(
        0.5,
        gt=0,
        description="Seconds of backoff after a request's first failed attempt; doubles per attempt, with jitter.",
    )
    retry_backoff_max: float = Field(
        30.0, gt=0, description="Longest backoff between two attempts of one request, in seconds."
    )
    routing: Routing | None = Field(
        None,
        description="Send each row to the ad account its value of `routing.column` maps to in `routing.accounts`; "
        "rows that map to none are rejected `no_ad_account` (docs/accounts.md).",
    )
    state: str = Field(
        str(DEFAULT_STATE_PATH),
        description="Where the pipeline keeps its tables (extracts, events, rejects, delivery ledger): a DuckDB file "
        "path, or a postgresql://user:password@host:port/database URL (docs/state.md).",
    )

    @field_validator("state", mode="before")
    @classmethod
    def _state_text(cls, value: object) -> object:
        # A path object is kept as its text: a URL must not pass through Path, which folds its `//`.
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("source_timezone", "partition_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("default_country")
    @classmethod
    def _alpha2(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if pycountry.countries.get(alpha_2=value.strip().upper()) is None:
            raise ValueError(f"{value!r} is not an ISO-3166 alpha-2 country code")
        return value.strip().lower()

    @field_validator("default_currency")
    @classmethod
    def _iso4217(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if pycountry.currencies.get(alpha_3=value.strip().upper()) is None:
            raise ValueError(f"{value!r} is not an ISO-4217 currency code")
        return value.strip().upper()

    @field_validator("partner_name")
    @classmethod
    def _partner_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"ss-[a-z0-9][a-z0-9_-]*", value):
            raise ValueError(f"must match ss-<lowercase> (e.g. ss-acme), got {value!r}")
        return value

    @field_validator("taxonomy")
    @classmethod
    def _known_taxonomy(cls, value: str) -> str:
        from pinterest_pipeline.taxonomy import PRESET_NAMES

        if value not in PRESET_NAMES:
            raise ValueError(f"unknown taxonomy {value!r}; choose one of {', '.join(sorted(PRESET_NAMES))}")
        return value

    @field_validator("event_mapping")
    @classmethod
    def _mapping_targets(cls, value: dict[str, str]) -> dict[str, str]:
        from pinterest_pipeline.taxonomy import PINTEREST_EVENT_NAMES

        for source, target in value.items():
            if target not in PINTEREST_EVENT_NAMES:
                raise ValueError(f"{source!r} maps to {target!r}, which is not a Pinterest event name")
        return value

    @field_validator("max_event_age", "max_future_skew", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)


def _format_error(error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "config"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return f"invalid config key '{key}': {message}"


def build_config(**values: Any) -> PipelineConfig:
    """Validate `values` into a `PipelineConfig`, raising `ConfigError` that names the bad key."""
    try:
        return PipelineConfig(**values)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc)) from None


# `PINTEREST_PIPELINE_*` variables that are not config keys: read by the CLI and the Dagster layer
# (the config file, the run's clock, the partitions) and by the engine's DuckDB helpers.
OTHER_ENV_SETTINGS = frozenset({"CONFIG", "NOW", "START_DATE", "CACHE_DIR", "DUCKDB_MEMORY_LIMIT"})
# Config keys that a variable cannot hold (a table, not one value).
_NOT_FROM_ENV = {
    "event_mapping": "use an [event_mapping] table in the config file",
    "routing": "use a [routing] table in the config file",
}


def _environment_values() -> dict[str, Any]:
    """The config keys set by `PINTEREST_PIPELINE_<KEY>` variables. Any other variable with the
    prefix is a config error naming it, so a misspelt setting is never silently ignored."""
    fields = PipelineConfig.model_fields
    values: dict[str, Any] = {}
    for variable, raw in sorted(os.environ.items()):
        if not variable.startswith(ENV_PREFIX):
            continue
        suffix = variable[len(ENV_PREFIX) :]
        name = suffix.lower()
        if name in _NOT_FROM_ENV:
            raise ConfigError(f"{variable} cannot be set by an environment variable: {_NOT_FROM_ENV[name]}")
        if name in fields and suffix == name.upper():
            values[name] = raw
        elif suffix not in OTHER_ENV_SETTINGS:
            raise ConfigError(f"unknown environment variable {variable}{_env_hint(suffix)}")
    return values


def _env_hint(suffix: str) -> str:
    known = sorted(
        {name.upper() for name in PipelineConfig.model_fields if name not in _NOT_FROM_ENV} | OTHER_ENV_SETTINGS
    )
    close = difflib.get_close_matches(suffix.upper(), known, n=1, cutoff=0.75)
    if close:
        return f" (did you mean {ENV_PREFIX}{close[0]}?)"
    return f": not a config key, nor one of {', '.join(ENV_PREFIX + name for name in sorted(OTHER_ENV_SETTINGS))}"


def load_config(path: str | Path | None = None, **overrides: Any) -> PipelineConfig:
    """Load config from (lowest to highest precedence) a TOML file, `PINTEREST_PIPELINE_*`
    environment variables and explicit overrides (CLI options); `None` overrides are ignored.

    The TOML file holds the keys at top level or under a `[pinterest_pipeline]` table, with the
    user mapping as an `[event_mapping]` table.
    """
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        values.update(data.get("pinterest_pipeline", data))
    values.update(_environment_values())
    values.update({key: value for key, value in overrides.items() if value is not None})
    return build_config(**values)
