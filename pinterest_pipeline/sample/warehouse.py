"""A realistic, messy sample warehouse in DuckDB, for the demo, the tests and the benchmarks.

The tables look like what a shop's warehouse really holds, including the data the normalizer exists
for: mixed-case emails with stray spaces, upper-case pre-hashed emails, phone numbers in national and
international notations, ZIP+4 codes, UK postcodes, Turkish `İ`, Greek final sigma and decomposed
accents in names, countries as codes and as names, genders in many spellings, birthdays as text in
several formats (some invalid), Californian customers who opted out of sale (LDP), mobile ad ids, and
events with source names from every CDP preset, missing or duplicated ids and bad action sources.

Every value is drawn inside DuckDB from `hash(row, salt, seed)`, so generating tens of millions of rows
takes seconds and the same seed (with the same `end` and DuckDB version) gives identical tables. What
the values are drawn from lives in `sample_vocabulary`.

Tables (all times TIMESTAMPTZ; the data covers the `days` whole UTC days before `end`):

- `products(sku, name, category, brand, list_price)`
- `customers(customer_id, customer_key, email, first_name, last_name, phone, gender, birthday, city,
  state, zip, country, ccpa_do_not_sell, mobile_ad_id, created_at)`
- `orders(order_id, customer_id, placed_at, channel, currency, total, client_ip, user_agent,
  checkout_url)` with `order_items(order_id, line_number, sku, unit_price, quantity)`
- `events(event_id, event_name, occurred_at, user_id, anonymous_id, channel, page_url, page_category,
  search_query, product_sku, price, quantity, value, currency, ip, user_agent, locale, app_id,
  app_name, app_version, device_brand, device_carrier, device_model, device_type, os_version, wifi,
  advertising_id, ad_tracking_enabled)`
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from pinterest_pipeline.sample.vocabulary import PRODUCT_ADJECTIVES, PRODUCT_NOUNS, place_rows, vocabularies

# Share of a day's rows that are orders; the rest are behavioural events.
ORDER_SHARE = 0.1
# One customer for every this many rows of a day, so identities repeat across events as in real data.
ROWS_PER_CUSTOMER = 5
MIN_CUSTOMERS = 200
PRODUCT_COUNT = 500


# `draw(k, salt)`: a deterministic pseudo-random UBIGINT for row `k`; each column uses its own salt
# so that columns are independent. `pick('name', k, salt)` draws from the 100-entry vocabulary held in
# the DuckDB variable `name`: variables are constants to the planner, whereas list columns carried
# through joins would be copied row by row.
_MACROS = """
CREATE TEMP MACRO draw(k, salt) AS hash(k, salt, getvariable('sample_seed'));
-- `below(k, salt, n)`: a draw in [0, n). The UBIGINT cast keeps the modulo in 64-bit arithmetic
-- (UBIGINT % BIGINT would widen to HUGEINT, several times slower).
CREATE TEMP MACRO below(k, salt, n) AS (draw(k, salt) % n::UBIGINT)::BIGINT;
CREATE TEMP MACRO pick(vocabulary, k, salt) AS getvariable(vocabulary)[1 + below(k, salt, 100)];
CREATE TEMP MACRO percent(k, salt) AS below(k, salt, 100);
CREATE TEMP MACRO permille(k, salt) AS below(k, salt, 1000);
CREATE TEMP MACRO digits(k, salt, n) AS lpad((draw(k, salt) % (10::UBIGINT ** n)::UBIGINT)::VARCHAR, n::INTEGER, '0');
CREATE TEMP MACRO uuid_text(k, salt) AS (
    -- 128 drawn bits with the version-4 and RFC 4122 variant bits set, as client SDKs generate them
    (((draw(k, salt) & 18446744073709490175::UBIGINT) | 16384::UBIGINT)::UHUGEINT << 64)
    | ((draw(k, salt + 1) & 4611686018427387903::UBIGINT) | 9223372036854775808::UBIGINT)::UHUGEINT
)::UUID::VARCHAR;
-- The row numbers 0..n-1 of a generated table. Read from a table rather than range() because
-- range() is a single-threaded source and a table scan runs on every core.
CREATE TEMP MACRO row_numbers(n) AS TABLE SELECT i FROM row_number_source WHERE i < n;
CREATE TEMP MACRO instant(first_day_us, day_index, offset_us) AS
    make_timestamptz(first_day_us + day_index * 86400000000 + offset_us);
CREATE TEMP MACRO ip_address(k, salt) AS getvariable('ip_pool')[1 + below(k, salt, 4096)];
CREATE TEMP MACRO catalog_price(p) AS (4.99 + below(p, 901, 25000) / 100)::DECIMAL(10, 2);
"""

# 4096 client addresses, one in ten IPv6; drawing from a pool is much cheaper than formatting
# an address per row.
_IP_POOL = """
SELECT list(
    CASE WHEN percent(a, 400) < 10
        THEN printf('2001:db8:%x::%x', draw(a, 401) % 65536, draw(a, 402) % 65536)
        ELSE printf('%d.%d.%d.%d', 1 + draw(a, 401) % 223, draw(a, 402) % 256, draw(a, 403) % 256,
                    1 + draw(a, 404) % 254)
    END ORDER BY a)
FROM range(4096) AS r(a)
"""

_PRODUCTS = """
CREATE TABLE products AS
SELECT
    'SKU-' || lpad(p::VARCHAR, 5, '0') AS sku,
    $adjectives[1 + below(p, 902, 10)] || ' ' || $nouns[1 + (p % 10)::BIGINT] AS name,
    pick('page_category', p, 903) AS category,
    pick('brand', p, 904) AS brand,
    catalog_price(p) AS list_price
FROM row_numbers($product_count) AS r(p)
"""

_CUSTOMERS = """
CREATE TABLE customers AS
WITH base AS (
    SELECT c + 1 AS customer_id, c, pl.*,
        pl.phone_prefixes[1 + below(c, 101, pl.prefix_count)] AS phone_prefix,
        pick('email_handle', c, 102) || '.' || (c + 1)::VARCHAR || '@' || pick('email_domain', c, 103) AS clean_email,
        DATE '1950-01-01' + below(c, 104, 20000)::INTEGER AS true_birthday
    FROM row_numbers($customer_count) AS r(c)
    JOIN sample_places AS pl ON pl.slot = percent(c, 100)
), numbered AS (
    SELECT *, phone_prefix || digits(c, 105, phone_length - length(phone_prefix)) AS national_number
    FROM base
)
SELECT
    customer_id,
    'CUS-' || lpad(customer_id::VARCHAR, 8, '0') AS customer_key,
    CASE pick('email_style', c, 110)
        WHEN 'plain' THEN clean_email
        WHEN 'mixed_case' THEN upper(clean_email[1]) || clean_email[2:position('@' IN clean_email)]
            || upper(clean_email[position('@' IN clean_email) + 1:])
        WHEN 'padded' THEN '  ' || clean_email || ' '
        WHEN 'prehashed' THEN upper(sha256(clean_email))
        WHEN 'turkish' THEN 'İLKER.' || customer_id::VARCHAR || '@Örnek.com.tr'
        WHEN 'junk' THEN ['N/A', '', 'null', '-'][1 + below(c, 111, 4)]
    END AS email,
    pick('first_name', c, 112) AS first_name,
    pick('last_name', c, 113) AS last_name,
    CASE pick('phone_style', c, 114)
        WHEN 'national' THEN
            -- NANP numbers are written with or without their trunk `1`
            CASE WHEN trunk_prefix <> '1' THEN trunk_prefix WHEN percent(c, 115) < 30 THEN '1 ' ELSE '' END
            || national_number[1:3] || ' ' || national_number[4:6] || ' ' || national_number[7:]
        WHEN 'plus' THEN '+' || calling_code || ' ' || national_number[1:3] || ' ' || national_number[4:]
        WHEN 'plus_zero' THEN '+' || calling_code || CASE WHEN trunk_prefix = '0' THEN ' (0)' ELSE ' ' END
            || national_number
        WHEN 'double_zero' THEN '00' || calling_code || ' ' || national_number
        WHEN 'digits' THEN trunk_prefix || national_number
        WHEN 'us_parens' THEN
            CASE WHEN calling_code = '1'
                THEN '(' || national_number[1:3] || ') ' || national_number[4:6] || '-' || national_number[7:]
                ELSE trunk_prefix || national_number[1:3] || '.' || national_number[4:6] || '.' || national_number[7:]
            END
        WHEN 'too_short' THEN digits(c, 116, 5)
        WHEN 'junk' THEN 'N/A'
    END AS phone,
    pick('gender', c, 117) AS gender,
    CASE pick('birthday_style', c, 118)
        WHEN 'iso' THEN strftime(true_birthday, '%Y-%m-%d')
        WHEN 'compact' THEN strftime(true_birthday, '%Y%m%d')
        WHEN 'with_time' THEN strftime(true_birthday, '%Y-%m-%d 00:00:00')
        WHEN 'us_slashes' THEN strftime(true_birthday, '%m/%d/%Y')
        WHEN 'impossible' THEN strftime(true_birthday, '%Y') || '-02-30'
    END AS birthday,
    CASE percent(c, 119) WHEN 0 THEN upper(city) WHEN 1 THEN ' ' || city || ' ' ELSE city END AS city,
    CASE
        WHEN state_code IS NULL THEN NULL
        WHEN percent(c, 120) < 65 THEN state_code
        WHEN percent(c, 120) < 85 THEN state_name
        WHEN percent(c, 120) < 92 THEN lower(state_code)
    END AS state,
    CASE pick('zip_style', c, 121)
        WHEN 'as_is' THEN postal_code
        WHEN 'zip_plus4' THEN postal_code || CASE WHEN iso = 'US' THEN '-' || digits(c, 122, 4) ELSE '' END
        WHEN 'nine_digits' THEN postal_code || CASE WHEN iso = 'US' THEN digits(c, 122, 4) ELSE '' END
        WHEN 'lost_leading_zero' THEN ltrim(postal_code, '0')
        WHEN 'lower' THEN lower(postal_code)
        WHEN 'padded' THEN ' ' || postal_code || ' '
    END AS zip,
    spellings[1 + below(c, 123, spelling_count)] AS country,
    -- Californians who opted out of sale (CCPA) need Limited Data Processing; a few customers elsewhere
    -- carry the flag too, where Pinterest cannot apply it.
    (state_code = 'CA' AND iso = 'US' AND percent(c, 124) < 30) OR permille(c, 125) < 5 AS ccpa_do_not_sell,
    CASE WHEN percent(c, 126) < 20 THEN
        CASE WHEN percent(c, 127) < 50 THEN upper(uuid_text(c, 128)) ELSE uuid_text(c, 128) END
    END AS mobile_ad_id,
    instant($first_day_us, -1 - below(c, 129, 1500), below(c, 130, 86400000000)) AS created_at
FROM numbered
ORDER BY customer_id
"""

# Events: row `i` of day `i // $events_per_day`. About 0.3% of rows are SDK retries: a copy of the
# previous row (same id, name and properties, two seconds later); every other property is drawn from
# `src`, the row being copied or the row itself. The first event of each day is exactly at midnight
# UTC so that window boundaries are exercised.
_EVENTS = """
CREATE TABLE events AS
WITH base AS (
    SELECT i, i // $events_per_day AS day_index,
        CASE WHEN i % $events_per_day > 0 AND permille(i, 200) < 3 THEN i - 1 ELSE i END AS src
    FROM row_numbers($days * $events_per_day) AS r(i)
), drawn AS (
    SELECT b.*,
        1 + below(src, 201, 100) AS name_slot,
        1 + below(src, 202, 100) AS channel_slot,
        below(src, 203, $product_count) AS product_index,
        CASE WHEN percent(src, 204) < 70 THEN 1 + below(src, 205, $customer_count) END AS user_id
    FROM base AS b
), shaped AS (
    SELECT *,
        getvariable('event_name')[name_slot] AS name,
        getvariable('event_kind')[name_slot] AS kind,
        getvariable('event_channel')[channel_slot] AS channel,
        -- the channel as Pinterest would read it (trimmed, lower case), to keep properties consistent
        getvariable('event_platform')[channel_slot] AS platform
    FROM drawn
)
SELECT
    CASE WHEN permille(src, 206) >= 2 THEN uuid_text(src, 207) END AS event_id,
    name AS event_name,
    instant(
        $first_day_us, day_index,
        CASE WHEN i % $events_per_day = 0 THEN 0 ELSE below(src, 209, 86399000000) END
        + CASE WHEN src <> i THEN 2000000 ELSE 0 END
    ) AS occurred_at,
    user_id,
    uuid_text(src, 210) AS anonymous_id,
    channel,
    CASE WHEN platform NOT IN ('app_ios', 'app_android', 'offline') THEN
        'https://shop.example.com'
        || CASE kind
            WHEN 'product' THEN '/products/SKU-' || lpad(product_index::VARCHAR, 5, '0')
            WHEN 'search' THEN '/search?q=' || replace(pick('search_query', src, 211), ' ', '+')
            WHEN 'category' THEN '/c/' || lower(replace(pick('page_category', src, 212), ' ', '-'))
            ELSE ['/', '/about', '/blog/spring-ideas', '/c/lighting'][1 + below(src, 213, 4)]
        END
        -- a Pinterest click id, URL-encoded, on ads traffic
        || CASE WHEN percent(src, 214) < 20 THEN
            CASE WHEN kind = 'search' THEN '&' ELSE '?' END || 'utm_source=pinterest&epik=dj0yJnU9'
            || upper(hex(draw(src, 215))) || '%3D%3D'
        ELSE '' END
    END AS page_url,
    CASE WHEN kind = 'category' OR (kind = 'page' AND percent(src, 216) < 40) THEN pick('page_category', src, 212) END
        AS page_category,
    CASE WHEN kind = 'search' THEN pick('search_query', src, 211) END AS search_query,
    CASE WHEN kind = 'product' THEN 'SKU-' || lpad(product_index::VARCHAR, 5, '0') END AS product_sku,
    CASE WHEN kind = 'product' THEN catalog_price(product_index) END AS price,
    CASE WHEN kind = 'product' AND permille(src, 217) >= 20 THEN 1 + below(src, 218, 3)::INTEGER END AS quantity,
    CASE WHEN kind = 'product' AND name IN ('Product Added', 'AddToCart', 'add_to_cart', 'Add To Cart', 'purchase')
        THEN (catalog_price(product_index) * (1 + below(src, 218, 3)::INTEGER))::DECIMAL(12, 2) END AS value,
    CASE WHEN kind = 'product' THEN pick('currency', src, 219) END AS currency,
    CASE
        WHEN percent(src, 220) < (CASE WHEN platform LIKE 'app%' THEN 40 ELSE 5 END) THEN NULL
        ELSE ip_address(src, 221)
    END AS ip,
    CASE platform
        WHEN 'app_ios' THEN 'ExampleShop/' || pick('app_version', src, 226) || ' (' || pick('ios_model', src, 227)
            || '; iOS ' || pick('ios_os', src, 227) || ')'
        WHEN 'app_android' THEN 'ExampleShop/' || pick('app_version', src, 226) || ' (Linux; Android '
            || pick('android_os', src, 228) || '; ' || pick('android_model', src, 228) || ')'
        ELSE pick('web_user_agent', src, 229)
    END AS user_agent,
    pick('locale', src, 230) AS locale,
    CASE platform WHEN 'app_ios' THEN '1234567890' WHEN 'app_android' THEN 'com.example.shop' END AS app_id,
    CASE WHEN platform LIKE 'app_%' THEN 'Example Shop' END AS app_name,
    CASE WHEN platform LIKE 'app_%' THEN pick('app_version', src, 226) END AS app_version,
    CASE platform WHEN 'app_ios' THEN 'Apple'
        WHEN 'app_android' THEN pick('android_brand', src, 228) END AS device_brand,
    CASE WHEN platform LIKE 'app_%' THEN pick('carrier', src, 231) END AS device_carrier,
    CASE platform WHEN 'app_ios' THEN pick('ios_model', src, 227)
        WHEN 'app_android' THEN pick('android_model', src, 228) END
        AS device_model,
    CASE platform WHEN 'app_ios' THEN pick('ios_type', src, 227)
        WHEN 'app_android' THEN pick('android_type', src, 228) END
        AS device_type,
    CASE platform WHEN 'app_ios' THEN pick('ios_os', src, 227) WHEN 'app_android' THEN pick('android_os', src, 228) END
        AS os_version,
    CASE WHEN platform LIKE 'app_%' THEN percent(src, 232) < 60 END AS wifi,
    -- iOS advertising ids (IDFA) are upper case, Android ones (GAID) lower case
    CASE WHEN platform LIKE 'app_%' AND percent(src, 233) < 70 THEN
        CASE platform WHEN 'app_ios' THEN upper(uuid_text(src, 234)) ELSE uuid_text(src, 234) END
    END AS advertising_id,
    CASE WHEN platform LIKE 'app_%' THEN percent(src, 235) >= 15 END AS ad_tracking_enabled
FROM shaped
"""

# Order lines first (1 to 4 per order, 2% without a quantity), then the orders with their totals.
_ORDER_ITEMS = """
CREATE TABLE order_items AS
WITH lines AS (
    SELECT o, unnest(range(1 + below(o, 300, 4))) AS line
    FROM row_numbers($days * $orders_per_day) AS r(o)
), priced AS (
    SELECT o, line, below(o * 4 + line, 301, $product_count) AS product_index FROM lines
)
SELECT
    'ORD-' || lpad((o + 1)::VARCHAR, 10, '0') AS order_id,
    (line + 1)::INTEGER AS line_number,
    'SKU-' || lpad(product_index::VARCHAR, 5, '0') AS sku,
    -- one line in ten was bought on a 20% discount
    CASE WHEN percent(o * 4 + line, 302) < 10 THEN (catalog_price(product_index) * 0.8)::DECIMAL(10, 2)
        ELSE catalog_price(product_index) END AS unit_price,
    CASE WHEN permille(o * 4 + line, 303) >= 20 THEN 1 + below(o * 4 + line, 304, 3)::INTEGER END AS quantity
FROM priced
ORDER BY order_id, line_number
"""

_ORDERS = """
CREATE TABLE orders AS
WITH totals AS (
    SELECT order_id, sum(unit_price * coalesce(quantity, 1))::DECIMAL(12, 2) AS total
    FROM order_items GROUP BY order_id
), base AS (
    SELECT o, o // $orders_per_day AS day_index, 'ORD-' || lpad((o + 1)::VARCHAR, 10, '0') AS order_id,
        pick('order_channel', o, 310) AS channel
    FROM row_numbers($days * $orders_per_day) AS r(o)
)
SELECT
    b.order_id,
    -- guest checkouts have no customer
    CASE WHEN percent(o, 311) >= 6 THEN 1 + below(o, 312, $customer_count) END AS customer_id,
    instant($first_day_us, day_index, below(o, 313, 86399000000)) AS placed_at,
    channel,
    pick('currency', o, 314) AS currency,
    t.total,
    CASE WHEN lower(trim(coalesce(channel, ''))) <> 'offline' AND percent(o, 315) >= 8 THEN
        ip_address(o, 316)
    END AS client_ip,
    CASE
        WHEN lower(trim(coalesce(channel, ''))) = 'offline' OR percent(o, 320) < 8 THEN NULL
        WHEN channel = 'app_ios' THEN 'ExampleShop/' || pick('app_version', o, 321) || ' (iPhone; iOS 17.4.1)'
        WHEN channel = 'app_android' THEN 'ExampleShop/' || pick('app_version', o, 321) || ' (Linux; Android 14)'
        ELSE pick('web_user_agent', o, 321)
    END AS user_agent,
    CASE WHEN lower(trim(coalesce(channel, ''))) = 'web' THEN
        'https://shop.example.com/checkout/thank-you'
        || CASE WHEN percent(o, 322) < 25 THEN '?epik=dj0yJnU9' || upper(hex(draw(o, 323))) || '%3D%3D' ELSE '' END
    END AS checkout_url
FROM base AS b JOIN totals AS t USING (order_id)
ORDER BY b.order_id
"""


@dataclass(frozen=True)
class SampleWarehouseSummary:
    """What `generate_sample_warehouse` wrote: the file, its day range and rows per table."""

    path: Path
    first_day: date
    last_day: date
    tables: dict[str, int]
    seconds: float

    @property
    def conversion_rows(self) -> int:
        """Rows the extracts yield over all days: orders plus behavioural events."""
        return self.tables["orders"] + self.tables["events"]


def generate_sample_warehouse(
    path: str | Path,
    *,
    days: int = 7,
    rows_per_day: int = 2000,
    seed: int = 0,
    end: date | None = None,
) -> SampleWarehouseSummary:
    """Write a sample warehouse DuckDB file at `path`, replacing any file there.

    `rows_per_day` conversion rows (orders plus events; a tenth are orders) fall in each of the
    `days` whole UTC days before `end` (default: today), so with the default `end` the last day with
    data is yesterday. The file is built beside `path` and moved into place at the end, so an
    interrupted run leaves nothing half-written at `path`.
    """
    if days < 1 or rows_per_day < 1:
        raise ValueError("days and rows_per_day must be at least 1")
    started = time.perf_counter()
    target = Path(path)
    end = end or datetime.now(timezone.utc).date()
    first_day = end - timedelta(days=days)
    orders_per_day = max(1, round(rows_per_day * ORDER_SHARE))
    events_per_day = max(1, rows_per_day - orders_per_day)
    params = {
        "seed": seed,
        "days": days,
        "first_day_us": int(datetime.combine(first_day, datetime.min.time(), tzinfo=timezone.utc).timestamp())
        * 1_000_000,
        "events_per_day": events_per_day,
        "orders_per_day": orders_per_day,
        "customer_count": max(MIN_CUSTOMERS, rows_per_day // ROWS_PER_CUSTOMER),
        "product_count": PRODUCT_COUNT,
    }

    building = target.with_name(f".{target.name}.building")
    _remove_database_file(building)
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(building))
    try:
        _write_tables(con, params)
        tables = {
            name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            for name in ("products", "customers", "orders", "order_items", "events")
        }
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        _remove_database_file(building)
        raise
    con.close()
    _remove_database_file(target)
    os.replace(building, target)
    return SampleWarehouseSummary(
        path=target,
        first_day=first_day,
        last_day=end - timedelta(days=1),
        tables=tables,
        seconds=time.perf_counter() - started,
    )


def _write_tables(con: duckdb.DuckDBPyConnection, params: dict) -> None:
    # UTC so that day arithmetic on TIMESTAMPTZ does not move with the machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute("SET VARIABLE sample_seed = $seed::BIGINT", {"seed": params["seed"]})
    row_count = max(
        params["customer_count"], params["product_count"], params["days"] * params["events_per_day"],
        params["days"] * params["orders_per_day"],
    )
    con.execute("CREATE TEMP TABLE row_number_source AS SELECT i FROM range($n) AS r(i)", {"n": row_count})
    con.execute(_MACROS)
    for name, values in vocabularies().items():
        # Typed explicitly: a bound list holding NULLs has no type of its own.
        con.execute(f"SET VARIABLE {name} = $values::VARCHAR[]", {"values": values})
    con.execute(f"SET VARIABLE ip_pool = ({_IP_POOL})")
    con.execute(
        """
        CREATE TEMP TABLE sample_places (
            slot BIGINT, iso VARCHAR, spellings VARCHAR[], spelling_count BIGINT, calling_code VARCHAR,
            trunk_prefix VARCHAR, phone_prefixes VARCHAR[], prefix_count BIGINT, phone_length INTEGER,
            city VARCHAR, postal_code VARCHAR, state_code VARCHAR, state_name VARCHAR
        )
        """
    )
    con.executemany("INSERT INTO sample_places VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", place_rows())

    def run(sql: str, *names: str, **extra: object) -> None:
        # DuckDB refuses bound parameters a statement does not use, so each gets only its own.
        con.execute(sql, {name: params[name] for name in names} | extra)

    run(_PRODUCTS, "product_count", adjectives=PRODUCT_ADJECTIVES, nouns=PRODUCT_NOUNS)
    run(_CUSTOMERS, "customer_count", "first_day_us")
    run(_EVENTS, "days", "events_per_day", "product_count", "customer_count", "first_day_us")
    run(_ORDER_ITEMS, "days", "orders_per_day", "product_count")
    run(_ORDERS, "days", "orders_per_day", "customer_count", "first_day_us")


def _remove_database_file(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)
