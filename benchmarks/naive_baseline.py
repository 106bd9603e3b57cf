"""The baseline the engine is measured against: the same rules, written the straightforward way.

This is how a transform to the Pinterest API for Conversions is usually written: read the rows with
pandas, loop over them in Python, normalize each identifier with the reference normalizer
(`pinterest_pipeline.transform.normalize.reference`), hash with `hashlib`, build a dict per event and
`json.dumps` it. It applies the rules of docs/rules.md (event names through the taxonomy, event time,
action source, the identifier rule, age limits, amounts, currency, products, language, click id,
LDP, app fields, in-run duplicates) to contract rows with the column types the extract SQL yields.

It exists to give the benchmark its ratio, and `benchmarks/run.py` checks on a sample that it sends
the same events as the engine: a baseline that did less work would flatter nothing.

    python benchmarks/naive_baseline.py INPUT.parquet --out EVENTS.ndjson --rejected REJECTS.ndjson [--now ISO]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pycountry

from pinterest_pipeline.config import PipelineConfig, load_config
from pinterest_pipeline.taxonomy import PAGE_VIEW, event_key, resolve_mapping
from pinterest_pipeline.transform.normalize import reference

ACTION_SOURCES = {"app_android", "app_ios", "web", "offline"}
ISO_639_1 = {language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")}
ISO_4217 = {currency.alpha_3 for currency in pycountry.currencies}
APP_DEVICE_FIELDS = (
    "app_id", "app_name", "app_version", "device_brand", "device_carrier", "device_model", "device_type", "os_version",
)
CUSTOM_TEXT_FIELDS = ("order_id", "search_string", "content_name", "content_category", "content_brand")
# (source column, user_data key, reference hash function, whether it takes the row's country)
HASHED_FIELDS = (
    ("email", "em", reference.hash_em, False),
    ("phone", "ph", reference.hash_ph, True),
    ("gender", "ge", reference.hash_ge, False),
    ("date_of_birth", "db", reference.hash_db, False),
    ("last_name", "ln", reference.hash_ln, False),
    ("first_name", "fn", reference.hash_fn, False),
    ("city", "ct", reference.hash_ct, False),
    ("state", "st", reference.hash_st, True),
    ("zip", "zp", reference.hash_zp, True),
    ("country", "country", reference.hash_country, False),
    ("external_id", "external_id", reference.hash_external_id, False),
    ("maid", "hashed_maids", reference.hash_maid, False),
)
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass
class NaiveResult:
    rows_in: int
    events: list[str] = field(default_factory=list)  # one compact JSON object per event
    warnings: dict[str, list[str]] = field(default_factory=dict)  # event_id -> sorted warning codes
    rejects: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def text(value: Any) -> str | None:
    """A value as trimmed text, None when missing or blank."""
    if is_missing(value):
        return None
    stripped = str(value).strip()
    return stripped or None


def plain_decimal(value: Any) -> str | None:
    """`27.5`, `2000`: never an exponent, never trailing zeros; None when not a finite number."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    raw = str(value).strip()
    if not _PLAIN_NUMBER.fullmatch(raw):
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    formatted = format(number.normalize(), "f")
    return "0" if formatted in ("-0", "0") else formatted


def as_list(value: Any) -> list:
    """A scalar or list column's value as a list of its values."""
    if isinstance(value, (list, np.ndarray)):
        return list(value)
    return [] if is_missing(value) else [value]


def epoch_seconds(value: Any, source_timezone: str) -> int | None:
    if is_missing(value):
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        moment = value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(source_timezone), fold=0)
        return math.floor(moment.timestamp())
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            return None
        return math.floor(number) if abs(number) < 1e12 else math.floor(number / 1000) if abs(number) < 1e13 else None
    raw = str(value).strip()
    if re.fullmatch(r"-?\d+", raw):
        return epoch_seconds(int(raw), source_timezone)
    try:
        return epoch_seconds(datetime.fromisoformat(raw), source_timezone)
    except ValueError:
        return None


def identity_text(column: str, value: Any) -> str | None:
    if is_missing(value):
        return None
    if column == "date_of_birth" and isinstance(value, (date, datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    if column == "zip" and isinstance(value, (int, np.integer)):
        return str(value).zfill(5)
    return str(value)


def epik(url: str | None) -> str | None:
    if url is None:
        return None
    values = parse_qs(urlsplit(url).query, keep_blank_values=True).get("epik")
    return values[0] or None if values else None


def language(tag: Any) -> str | None:
    raw = text(tag)
    if raw is None:
        return None
    first = raw.replace("_", "-").split("-")[0].lower()
    return first if first in ISO_639_1 else None


def build_event(
    row: dict[str, Any], config: PipelineConfig, mapping: dict[str, str], now_s: int
) -> tuple[dict | None, str | None]:
    """(event, None) for a row that can be sent, or (None, reason)."""
    event_id = text(row.get("event_id"))
    if event_id is None:
        return None, "missing_event_id"
    source_name = text(row.get("event_name"))
    if source_name is None:
        return None, "missing_event_name"
    target = mapping.get(event_key(source_name))
    if target == PAGE_VIEW:
        event_name = "view_category" if text(row.get("content_category")) else "page_visit"
    elif target is None:
        if config.unknown_events == "reject":
            return None, "unknown_event_name"
        event_name = "custom"
    else:
        event_name = target
    event_time = epoch_seconds(row.get("event_time"), config.source_timezone)
    if event_time is None:
        return None, "invalid_event_time"
    if event_time < now_s - config.max_event_age.total_seconds():
        return None, "too_old"
    if event_time > now_s + config.max_future_skew.total_seconds():
        return None, "in_future"
    given_source = text(row.get("action_source"))
    action_source = given_source.lower() if given_source else config.default_action_source
    if action_source is None:
        return None, "missing_action_source"
    if action_source not in ACTION_SOURCES:
        return None, "invalid_action_source"

    region = reference.country_code(text(row.get("country"))) or config.default_country
    user_data: dict[str, Any] = {}
    for column, key, hash_value, takes_region in HASHED_FIELDS:
        if column not in row:
            continue
        values = [identity_text(column, v) for v in as_list(row[column])]
        hashes = [hash_value(v, region) if takes_region else hash_value(v) for v in values]
        distinct = reference.distinct_hashes(hashes)
        if distinct:
            user_data[key] = distinct
    url = text(row.get("event_source_url"))
    plain = {
        "client_ip_address": text(row.get("client_ip_address")),
        "client_user_agent": text(row.get("client_user_agent")),
        "click_id": text(row.get("click_id")) or epik(url),
        "partner_id": text(row.get("partner_id")),
    }
    user_data.update({key: value for key, value in plain.items() if value is not None})
    has_ip_and_agent = "client_ip_address" in user_data and "client_user_agent" in user_data
    if not ("em" in user_data or "hashed_maids" in user_data or has_ip_and_agent):
        return None, "missing_identifier"

    event: dict[str, Any] = {
        "event_name": event_name, "action_source": action_source, "event_time": event_time, "event_id": event_id,
    }
    if url:
        event["event_source_url"] = url
    if not is_missing(row.get("opt_out")):
        event["opt_out"] = bool(row["opt_out"])
    if config.partner_name:
        event["partner_name"] = config.partner_name
    for name in APP_DEVICE_FIELDS:
        if text(row.get(name)):
            event[name] = text(row[name])
    if not is_missing(row.get("wifi")):
        event["wifi"] = bool(row["wifi"])
    if language(row.get("language")):
        event["language"] = language(row["language"])
    event["user_data"] = user_data
    custom = custom_data(row, config)
    if custom:
        event["custom_data"] = custom
    return event, None


def custom_data(row: dict[str, Any], config: PipelineConfig) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    value = plain_decimal(row.get("value"))
    if value is not None:
        custom["value"] = value
    currency = text(row.get("currency"))
    if currency and currency.upper() in ISO_4217:
        custom["currency"] = currency.upper()
    elif currency is None and value is not None and config.default_currency:
        custom["currency"] = config.default_currency
    products = [p for p in as_list(row.get("products")) if isinstance(p, dict)]
    content_ids = [text(p.get("product_id")) for p in products if text(p.get("product_id"))]
    if content_ids:
        custom["content_ids"] = content_ids
    contents = []
    quantities = []
    for product in products:
        quantity = product.get("quantity")
        quantity = None if is_missing(quantity) else int(quantity)
        if quantity is not None:
            quantities.append(quantity)
        item = {
            "id": text(product.get("product_id")),
            "item_price": plain_decimal(product.get("price")),
            "quantity": quantity,
            "item_name": text(product.get("name")),
            "item_category": text(product.get("category")),
            "item_brand": text(product.get("brand")),
        }
        item = {key: v for key, v in item.items() if v is not None}
        if item:
            contents.append(item)
    if contents:
        custom["contents"] = contents
    num_items = row.get("num_items")
    if not is_missing(num_items):
        custom["num_items"] = int(num_items)
    elif quantities:
        custom["num_items"] = sum(quantities)
    for name in CUSTOM_TEXT_FIELDS:
        if text(row.get(name)):
            custom[name] = text(row[name])
    if text(row.get("opt_out_type")):
        custom["opt_out_type"] = text(row["opt_out_type"])
    predicted_ltv = plain_decimal(row.get("predicted_ltv"))
    if predicted_ltv is not None:
        custom["predicted_ltv"] = predicted_ltv
    return custom


def row_warnings(row: dict[str, Any], event: dict[str, Any]) -> list[str]:
    """The warning codes of a sent row: values dropped or flags that cannot take effect."""
    region = reference.country_code(text(row.get("country")))
    codes = {reference.ph_warning(identity_text("phone", v), region) for v in as_list(row.get("phone"))}
    codes.add(reference.zp_warning(identity_text("zip", row.get("zip")), region))
    currency = text(row.get("currency"))
    if currency and currency.upper() not in ISO_4217:
        codes.add("currency_invalid")
    if not is_missing(row.get("value")) and plain_decimal(row.get("value")) is None:
        codes.add("value_not_numeric")
    flags = [flag.strip() for flag in (text(row.get("opt_out_type")) or "").split(",")]
    user_data = event["user_data"]
    if "LDP" in flags and not (
        reference.sha256_hex("ca") in user_data.get("st", [])
        and reference.sha256_hex("us") in user_data.get("country", [])
    ):
        codes.add("ldp_needs_st_and_country")
    return sorted(code for code in codes if code)


def naive_transform(frame: pd.DataFrame, config: PipelineConfig, now: datetime) -> NaiveResult:
    """Every row of `frame` to an event JSON line or a reject, one row at a time."""
    mapping = resolve_mapping(config.taxonomy, config.event_mapping)
    now_s = math.floor(now.timestamp())
    result = NaiveResult(rows_in=len(frame))
    seen: dict[tuple[str, str], int] = {}
    for source_row, row in enumerate(frame.to_dict("records"), start=1):
        event, reason = build_event(row, config, mapping, now_s)
        event_id = text(row.get("event_id"))
        if event is not None:
            key = (event["event_id"], event["event_name"])
            if key in seen:
                event, reason = None, "duplicate_in_run"
            else:
                seen[key] = source_row
        if event is None:
            result.rejects.append({"event_id": event_id, "reason": reason, "source_row": source_row})
        else:
            result.events.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
            result.warnings[event["event_id"]] = row_warnings(row, event)
    return result


def run_baseline(
    input_path: Path, events_path: Path, rejects_path: Path, config: PipelineConfig, now: datetime
) -> NaiveResult:
    """Read a Parquet file of contract rows, transform it, write both NDJSON files; timed."""
    started = time.perf_counter()
    frame = pd.read_parquet(input_path)
    result = naive_transform(frame, config, now)
    with open(events_path, "w", encoding="utf-8") as events_file:
        for line in result.events:
            events_file.write(line + "\n")
    with open(rejects_path, "w", encoding="utf-8") as rejects_file:
        for reject in result.rejects:
            rejects_file.write(json.dumps(reject, ensure_ascii=False) + "\n")
    result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="Parquet file of contract rows")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rejected", type=Path, required=True)
    parser.add_argument("--now", type=datetime.fromisoformat, default=None)
    args = parser.parse_args()
    now = args.now or datetime.now(timezone.utc)
    result = run_baseline(args.input, args.out, args.rejected, load_config(), now)
    print(
        f"{result.rows_in} rows -> {len(result.events)} events, {len(result.rejects)} rejected "
        f"in {result.seconds:.2f}s"
    )


if __name__ == "__main__":
    main()
