-- lookups (session variables set before the row checks)
SET VARIABLE pp_country_codes = (SELECT map(list("country"), list(pp_country_code("country"))) FROM (SELECT DISTINCT "country" FROM "pinterest_source" WHERE "country" IS NOT NULL));
SET VARIABLE pp_country_hashes = (SELECT map(list("country"), list(pp_hash_country(CAST("country" AS VARCHAR)))) FROM (SELECT DISTINCT "country" FROM "pinterest_source" WHERE "country" IS NOT NULL));
SET VARIABLE pp_state_hashes = (SELECT map(list(coalesce(region, '') || '|' || state), list(pp_hash_st(state, region))) FROM (SELECT DISTINCT CAST("state" AS VARCHAR) AS state, coalesce(pp_country_code("country"), CAST($default_country AS VARCHAR)) AS region FROM "pinterest_source" WHERE "state" IS NOT NULL));

-- row checks
WITH numbered AS NOT MATERIALIZED (
SELECT *, getvariable('pp_state_hashes')[coalesce(region, '') || '|' || CAST("state" AS VARCHAR)] AS looked_up_state_hash FROM (SELECT (rowid - 0) + 1 AS source_row, coalesce(getvariable('pp_country_codes')["country"], CAST($default_country AS VARCHAR)) AS region, regexp_replace(lower(pp_text("event_name")), '[^\p{L}\p{N}]+', '', 'g') AS event_key, "event_id", "event_name", "event_time", "action_source", "email", "phone", "maid", "first_name", "last_name", "gender", "date_of_birth", "city", "state", "zip", "country", "external_id", "client_ip_address", "client_user_agent", "click_id", "partner_id", "event_source_url", "language", "opt_out", "opt_out_type", "value", "predicted_ltv", "currency", "order_id", "search_string", "content_name", "content_category", "content_brand", "num_items", "products", "app_id", "app_name", "app_version", "device_brand", "device_carrier", "device_model", "device_type", "os_version", "wifi", getvariable('pp_country_hashes')["country"] AS looked_up_country_hash FROM "pinterest_source")
), fields AS NOT MATERIALIZED (
SELECT source_row AS "source_row",
    pp_text("event_id") AS "event_id",
    pp_text(n.event_name) AS "source_event_name",
    CASE WHEN list_contains(CAST($page_view_keys AS VARCHAR[]), n.event_key) THEN CASE WHEN pp_text("content_category") IS NOT NULL THEN 'view_category' ELSE 'page_visit' END ELSE coalesce(map(CAST($event_keys AS VARCHAR[]), CAST($event_names AS VARCHAR[]))[n.event_key], CAST(NULL AS VARCHAR)) END AS "mapped_event_name",
    pp_local_to_epoch_s(CAST(floor(epoch("event_time")) AS BIGINT), $source_timezone) AS "event_time",
    ("event_time" IS NOT NULL) AS "event_time_given",
    coalesce(lower(pp_text("action_source")), CAST($default_action_source AS VARCHAR)) AS "action_source",
    pp_distinct_hashes(CASE WHEN len("email") <= 3 THEN [pp_hash_em(CAST("email"[1] AS VARCHAR)), pp_hash_em(CAST("email"[2] AS VARCHAR)), pp_hash_em(CAST("email"[3] AS VARCHAR))] WHEN len("email") > 3 THEN list_transform("email", lambda v: pp_hash_em(CAST(v AS VARCHAR))) END) AS "h_em",
    pp_distinct_hashes(CASE WHEN len("maid") <= 3 THEN [pp_hash_maid(CAST("maid"[1] AS VARCHAR)), pp_hash_maid(CAST("maid"[2] AS VARCHAR)), pp_hash_maid(CAST("maid"[3] AS VARCHAR))] WHEN len("maid") > 3 THEN list_transform("maid", lambda v: pp_hash_maid(CAST(v AS VARCHAR))) END) AS "h_hashed_maids",
    pp_text("client_ip_address") AS "client_ip_address",
    pp_text("client_user_agent") AS "client_user_agent"
  FROM numbered AS n
), checked AS NOT MATERIALIZED (
SELECT *, CASE
        WHEN event_id IS NULL THEN 'missing_event_id'
        WHEN source_event_name IS NULL THEN 'missing_event_name'
        WHEN mapped_event_name IS NULL THEN 'unknown_event_name'
        WHEN event_time IS NULL THEN 'invalid_event_time'
        WHEN event_time < CAST($oldest_s AS BIGINT) THEN 'too_old'
        WHEN event_time > CAST($latest_s AS BIGINT) THEN 'in_future'
        WHEN action_source IS NULL THEN 'missing_action_source'
        WHEN NOT list_contains(CAST($action_sources AS VARCHAR[]), action_source) THEN 'invalid_action_source'
        WHEN NOT (h_em IS NOT NULL OR h_hashed_maids IS NOT NULL OR (client_ip_address IS NOT NULL AND client_user_agent IS NOT NULL)) THEN 'missing_identifier'
    END AS reason FROM fields
)
SELECT source_row, event_id, mapped_event_name AS event_name, reason, CASE reason
        WHEN 'missing_event_id' THEN 'event_id is NULL or empty'
        WHEN 'missing_event_name' THEN 'event_name is NULL or empty'
        WHEN 'unknown_event_name' THEN 'event name ' || to_json(source_event_name)
            || ' is not mapped by taxonomy ' || $taxonomy || ' or event_mapping'
        WHEN 'invalid_event_time' THEN CASE WHEN event_time_given
            THEN 'event_time is not a timestamp, epoch seconds/milliseconds or ISO-8601 text'
            ELSE 'event_time is NULL' END
        WHEN 'too_old' THEN 'event_time ' || strftime(to_timestamp(event_time), '%Y-%m-%dT%H:%M:%SZ') || $too_old_text
        WHEN 'in_future' THEN 'event_time ' || strftime(to_timestamp(event_time), '%Y-%m-%dT%H:%M:%SZ') || $in_future_text
        WHEN 'missing_action_source' THEN 'action_source is NULL and no default_action_source is configured'
        WHEN 'invalid_action_source' THEN 'action_source ' || to_json(action_source)
            || ' is not one of app_android, app_ios, web, offline'
        WHEN 'missing_identifier' THEN 'user_data has no em, no hashed_maids and not both client_ip_address and client_user_agent'
    END AS detail,
       CAST(timezone($partition_timezone, to_timestamp(event_time)) AS DATE) AS partition_day
  FROM checked;
-- row check parameters
--   action_sources = ["app_android", "app_ios", "web", "offline"]
--   default_action_source = null
--   default_country = null
--   event_keys = ["applicationinstalled", "applicationopened", "checkout", "checkoutstarted", "generatelead", "ordercompleted", "page", "pageview", "pageviewed", "paymentinfoentered", "productadded", "productaddedtowishlist", "productcategoryviewed", "productlistfiltered", "productssearched", "productvideowatched", "productviewed", "quoterequested", "signedup", "trialstarted"]
--   event_names = ["app_install", "app_open", "checkout", "initiate_checkout", "lead", "checkout", "page_visit", "page_visit", "page_visit", "add_payment_info", "add_to_cart", "add_to_wishlist", "view_category", "search", "search", "watch_video", "view_content", "lead", "signup", "start_trial"]
--   in_future_text = " is more than 5 minutes after the run's clock (2024-06-02T12:00:00Z)"
--   latest_s = 1717329900
--   oldest_s = 1717070400
--   page_view_keys = ["page", "pageview", "pageviewed"]
--   partition_timezone = "America/New_York"
--   source_timezone = "Europe/Paris"
--   taxonomy = "segment"
--   too_old_text = " is more than 3 days before the run's clock (2024-06-02T12:00:00Z)"

-- events
WITH numbered AS NOT MATERIALIZED (
SELECT *, getvariable('pp_state_hashes')[coalesce(region, '') || '|' || CAST("state" AS VARCHAR)] AS looked_up_state_hash FROM (SELECT (rowid - 0) + 1 AS source_row, coalesce(getvariable('pp_country_codes')["country"], CAST($default_country AS VARCHAR)) AS region, regexp_replace(lower(pp_text("event_name")), '[^\p{L}\p{N}]+', '', 'g') AS event_key, "event_id", "event_name", "event_time", "action_source", "email", "phone", "maid", "first_name", "last_name", "gender", "date_of_birth", "city", "state", "zip", "country", "external_id", "client_ip_address", "client_user_agent", "click_id", "partner_id", "event_source_url", "language", "opt_out", "opt_out_type", "value", "predicted_ltv", "currency", "order_id", "search_string", "content_name", "content_category", "content_brand", "num_items", "products", "app_id", "app_name", "app_version", "device_brand", "device_carrier", "device_model", "device_type", "os_version", "wifi", getvariable('pp_country_hashes')["country"] AS looked_up_country_hash FROM "pinterest_source")
), prepared AS NOT MATERIALIZED (
SELECT *, pp__lowered_ascii_digits(lpad(CAST("zip" AS VARCHAR), 5, '0')) AS pp_zip_f FROM numbered
), fields AS NOT MATERIALIZED (
SELECT source_row AS "source_row",
    pp_text("event_id") AS "event_id",
    pp_text(n.event_name) AS "source_event_name",
    CASE WHEN list_contains(CAST($page_view_keys AS VARCHAR[]), n.event_key) THEN CASE WHEN pp_text("content_category") IS NOT NULL THEN 'view_category' ELSE 'page_visit' END ELSE coalesce(map(CAST($event_keys AS VARCHAR[]), CAST($event_names AS VARCHAR[]))[n.event_key], CAST(NULL AS VARCHAR)) END AS "mapped_event_name",
    pp_local_to_epoch_s(CAST(floor(epoch("event_time")) AS BIGINT), $source_timezone) AS "event_time",
    ("event_time" IS NOT NULL) AS "event_time_given",
    coalesce(lower(pp_text("action_source")), CAST($default_action_source AS VARCHAR)) AS "action_source",
    pp_distinct_hashes(CASE WHEN len("email") <= 3 THEN [pp_hash_em(CAST("email"[1] AS VARCHAR)), pp_hash_em(CAST("email"[2] AS VARCHAR)), pp_hash_em(CAST("email"[3] AS VARCHAR))] WHEN len("email") > 3 THEN list_transform("email", lambda v: pp_hash_em(CAST(v AS VARCHAR))) END) AS "h_em",
    pp_distinct_hashes(CASE WHEN len("phone") <= 3 THEN [pp_hash_ph(CAST("phone"[1] AS VARCHAR), region), pp_hash_ph(CAST("phone"[2] AS VARCHAR), region), pp_hash_ph(CAST("phone"[3] AS VARCHAR), region)] WHEN len("phone") > 3 THEN list_transform("phone", lambda v: pp_hash_ph(CAST(v AS VARCHAR), region)) END) AS "h_ph",
    pp_hash_ge(CAST("gender" AS VARCHAR)) AS "h_ge",
    pp_hash_db(strftime("date_of_birth", '%Y-%m-%d')) AS "h_db",
    pp_hash_ln(CAST("last_name" AS VARCHAR)) AS "h_ln",
    pp_hash_fn(CAST("first_name" AS VARCHAR)) AS "h_fn",
    pp_hash_ct(CAST("city" AS VARCHAR)) AS "h_ct",
    looked_up_state_hash AS "h_st",
    pp__hash_or_passthrough(lpad(CAST("zip" AS VARCHAR), 5, '0'), pp__zp_normalized_of(pp_zip_f, region)) AS "h_zp",
    looked_up_country_hash AS "h_country",
    pp_hash_external_id(CAST("external_id" AS VARCHAR)) AS "h_external_id",
    pp_distinct_hashes(CASE WHEN len("maid") <= 3 THEN [pp_hash_maid(CAST("maid"[1] AS VARCHAR)), pp_hash_maid(CAST("maid"[2] AS VARCHAR)), pp_hash_maid(CAST("maid"[3] AS VARCHAR))] WHEN len("maid") > 3 THEN list_transform("maid", lambda v: pp_hash_maid(CAST(v AS VARCHAR))) END) AS "h_hashed_maids",
    pp_text("client_ip_address") AS "client_ip_address",
    pp_text("client_user_agent") AS "client_user_agent",
    coalesce(pp_text("click_id"), pp_epik(pp_text("event_source_url"))) AS "click_id",
    pp_text("partner_id") AS "partner_id",
    CASE WHEN len("phone") <= 3 THEN [pp_ph_warning(CAST("phone"[1] AS VARCHAR), region), pp_ph_warning(CAST("phone"[2] AS VARCHAR), region), pp_ph_warning(CAST("phone"[3] AS VARCHAR), region)] WHEN len("phone") > 3 THEN list_transform("phone", lambda v: pp_ph_warning(CAST(v AS VARCHAR), region)) END AS "phone_warnings",
    lpad(CAST(zip AS VARCHAR), 5, '0') AS "zip_text",
    pp_zip_f AS "pp_zip_f",
    region AS "region",
    pp_text("event_source_url") AS "event_source_url",
    pp_text("app_id") AS "app_id",
    pp_text("app_name") AS "app_name",
    pp_text("app_version") AS "app_version",
    pp_text("device_brand") AS "device_brand",
    pp_text("device_carrier") AS "device_carrier",
    pp_text("device_model") AS "device_model",
    pp_text("device_type") AS "device_type",
    pp_text("os_version") AS "os_version",
    pp_text("opt_out_type") AS "opt_out_type",
    pp_text("order_id") AS "order_id",
    pp_text("search_string") AS "search_string",
    pp_text("content_name") AS "content_name",
    pp_text("content_category") AS "content_category",
    pp_text("content_brand") AS "content_brand",
    TRY_CAST(pp_text("opt_out") AS BOOLEAN) AS "opt_out",
    "wifi" AS "wifi",
    pp_language("language", MAP(CAST($iso_639_1 AS VARCHAR[]), $iso_639_1)) AS "language",
    pp_plain_number("value") AS "value",
    ("value" IS NOT NULL) AS "value_given",
    pp_plain_decimal(pp_text("predicted_ltv")) AS "predicted_ltv",
    (pp_text("predicted_ltv") IS NOT NULL) AS "predicted_ltv_given",
    upper(pp_text("currency")) AS "currency_given",
    coalesce(map_contains(MAP(CAST($iso_4217 AS VARCHAR[]), $iso_4217), upper(pp_text("currency"))), false) AS "currency_valid",
    pp_integer_text(pp_text("num_items")) AS "num_items",
    ("num_items" IS NOT NULL) AS "num_items_given",
    list_transform(CASE WHEN json_valid(products) AND json_type(products) = 'ARRAY' THEN from_json(products, '[{"product_id":"VARCHAR","price":"VARCHAR","quantity":"VARCHAR","name":"VARCHAR","category":"VARCHAR","brand":"VARCHAR"}]') END, lambda p: {'id': pp_text(struct_extract(p, 'product_id')), 'item_price': pp_plain_decimal(pp_text(struct_extract(p, 'price'))), 'quantity': pp_integer_text(pp_text(struct_extract(p, 'quantity'))), 'item_name': pp_text(struct_extract(p, 'name')), 'item_category': pp_text(struct_extract(p, 'category')), 'item_brand': pp_text(struct_extract(p, 'brand')), 'price_given': (pp_text(struct_extract(p, 'price')) IS NOT NULL), 'quantity_given': (struct_extract(p, 'quantity') IS NOT NULL)}) AS "products"
  FROM prepared AS n
), checked AS NOT MATERIALIZED (
SELECT *, pp_nonempty(list_sort(list_distinct(list_filter(list_concat([CASE WHEN value_given AND value IS NULL THEN 'value_not_numeric' END, CASE WHEN predicted_ltv_given AND predicted_ltv IS NULL THEN 'predicted_ltv_not_numeric' END, CASE WHEN currency_given IS NOT NULL AND NOT currency_valid THEN 'currency_invalid' END, CASE WHEN pp_has_ldp(opt_out_type) AND NOT (coalesce(h_st = $sha256_ca, false) AND coalesce(h_country = $sha256_us, false)) THEN 'ldp_needs_st_and_country' END, CASE WHEN h_zp IS NULL AND zip_text IS NOT NULL THEN pp__zp_warning_of(pp__sha256_hex(zip_text) IS NOT NULL, pp_zip_f, region) END, CASE WHEN num_items_given AND num_items IS NULL THEN 'num_items_not_integer' END, CASE WHEN list_bool_or(list_transform(products, lambda p: p.price_given AND p.item_price IS NULL)) THEN 'item_price_not_numeric' END, CASE WHEN list_bool_or(list_transform(products, lambda p: p.quantity_given AND p.quantity IS NULL)) THEN 'quantity_not_integer' END], phone_warnings), lambda w: w IS NOT NULL)))) AS warnings, CASE WHEN currency_valid THEN currency_given WHEN currency_given IS NULL AND value IS NOT NULL THEN CAST($default_currency AS VARCHAR) END AS currency
  FROM (SELECT *, CASE
        WHEN event_id IS NULL THEN 'missing_event_id'
        WHEN source_event_name IS NULL THEN 'missing_event_name'
        WHEN mapped_event_name IS NULL THEN 'unknown_event_name'
        WHEN event_time IS NULL THEN 'invalid_event_time'
        WHEN event_time < CAST($oldest_s AS BIGINT) THEN 'too_old'
        WHEN event_time > CAST($latest_s AS BIGINT) THEN 'in_future'
        WHEN action_source IS NULL THEN 'missing_action_source'
        WHEN NOT list_contains(CAST($action_sources AS VARCHAR[]), action_source) THEN 'invalid_action_source'
        WHEN NOT (h_em IS NOT NULL OR h_hashed_maids IS NOT NULL OR (client_ip_address IS NOT NULL AND client_user_agent IS NOT NULL)) THEN 'missing_identifier'
    END AS reason FROM fields) WHERE reason IS NULL
)
SELECT source_row, event_id, mapped_event_name AS event_name, event_time, CAST(timezone($partition_timezone, to_timestamp(event_time)) AS DATE) AS partition_day,
       action_source, concat('{', concat_ws(',', pp_plain_str_field('event_name', mapped_event_name), pp_plain_str_field('action_source', action_source), pp_raw_field('event_time', event_time), pp_str_field('event_id', event_id), pp_str_field('event_source_url', event_source_url), pp_raw_field('opt_out', opt_out), pp_plain_str_field('partner_name', CAST($partner_name AS VARCHAR)), pp_str_field('app_id', app_id), pp_str_field('app_name', app_name), pp_str_field('app_version', app_version), pp_str_field('device_brand', device_brand), pp_str_field('device_carrier', device_carrier), pp_str_field('device_model', device_model), pp_str_field('device_type', device_type), pp_str_field('os_version', os_version), pp_raw_field('wifi', wifi), pp_plain_str_field('language', language)), ',"user_data":{', concat_ws(',', pp_hash_list_field('em', h_em), pp_hash_list_field('ph', h_ph), pp_hash_field('ge', h_ge), pp_hash_field('db', h_db), pp_hash_field('ln', h_ln), pp_hash_field('fn', h_fn), pp_hash_field('ct', h_ct), pp_hash_field('st', h_st), pp_hash_field('zp', h_zp), pp_hash_field('country', h_country), pp_hash_field('external_id', h_external_id), pp_hash_list_field('hashed_maids', h_hashed_maids), pp_str_field('client_ip_address', client_ip_address), pp_str_field('client_user_agent', client_user_agent), pp_str_field('click_id', click_id), pp_str_field('partner_id', partner_id)), '}', ',"custom_data":{' || nullif(concat_ws(',', pp_plain_str_field('value', value), pp_plain_str_field('currency', currency), CASE WHEN len(list_filter(products, lambda p: p.id IS NOT NULL)) > 0 THEN '"content_ids":' || CAST(to_json(list_transform(list_filter(products, lambda p: p.id IS NOT NULL), lambda p: p.id)) AS VARCHAR) END, CASE WHEN len(list_filter(list_transform(products, lambda p: concat_ws(',', pp_str_field('id', p.id), pp_plain_str_field('item_price', p.item_price), pp_raw_field('quantity', p.quantity), pp_str_field('item_name', p.item_name), pp_str_field('item_category', p.item_category), pp_str_field('item_brand', p.item_brand))), lambda c: c <> '')) > 0 THEN '"contents":[{' || array_to_string(list_filter(list_transform(products, lambda p: concat_ws(',', pp_str_field('id', p.id), pp_plain_str_field('item_price', p.item_price), pp_raw_field('quantity', p.quantity), pp_str_field('item_name', p.item_name), pp_str_field('item_category', p.item_category), pp_str_field('item_brand', p.item_brand))), lambda c: c <> ''), '},{') || '}]' END, pp_raw_field('num_items', coalesce(num_items, CASE WHEN list_bool_or(list_transform(products, lambda p: p.quantity IS NOT NULL)) THEN list_sum(list_transform(products, lambda p: p.quantity)) END)), pp_str_field('order_id', order_id), pp_str_field('search_string', search_string), pp_str_field('content_name', content_name), pp_str_field('content_category', content_category), pp_str_field('content_brand', content_brand), pp_str_field('opt_out_type', opt_out_type), pp_plain_str_field('predicted_ltv', predicted_ltv)), '') || '}', '}') AS event_json, warnings
  FROM checked;
-- event parameters
--   action_sources = ["app_android", "app_ios", "web", "offline"]
--   default_action_source = null
--   default_country = null
--   default_currency = null
--   event_keys = ["applicationinstalled", "applicationopened", "checkout", "checkoutstarted", "generatelead", "ordercompleted", "page", "pageview", "pageviewed", "paymentinfoentered", "productadded", "productaddedtowishlist", "productcategoryviewed", "productlistfiltered", "productssearched", "productvideowatched", "productviewed", "quoterequested", "signedup", "trialstarted"]
--   event_names = ["app_install", "app_open", "checkout", "initiate_checkout", "lead", "checkout", "page_visit", "page_visit", "page_visit", "add_payment_info", "add_to_cart", "add_to_wishlist", "view_category", "search", "search", "watch_video", "view_content", "lead", "signup", "start_trial"]
--   iso_4217 = "<178 codes from pycountry>"
--   iso_639_1 = "<184 codes from pycountry>"
--   latest_s = 1717329900
--   oldest_s = 1717070400
--   page_view_keys = ["page", "pageview", "pageviewed"]
--   partition_timezone = "America/New_York"
--   partner_name = null
--   sha256_ca = "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126"
--   sha256_us = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"
--   source_timezone = "Europe/Paris"

-- events, line-terminated (NDJSON output)
WITH numbered AS NOT MATERIALIZED (
SELECT *, getvariable('pp_state_hashes')[coalesce(region, '') || '|' || CAST("state" AS VARCHAR)] AS looked_up_state_hash FROM (SELECT (rowid - 0) + 1 AS source_row, coalesce(getvariable('pp_country_codes')["country"], CAST($default_country AS VARCHAR)) AS region, regexp_replace(lower(pp_text("event_name")), '[^\p{L}\p{N}]+', '', 'g') AS event_key, "event_id", "event_name", "event_time", "action_source", "email", "phone", "maid", "first_name", "last_name", "gender", "date_of_birth", "city", "state", "zip", "country", "external_id", "client_ip_address", "client_user_agent", "click_id", "partner_id", "event_source_url", "language", "opt_out", "opt_out_type", "value", "predicted_ltv", "currency", "order_id", "search_string", "content_name", "content_category", "content_brand", "num_items", "products", "app_id", "app_name", "app_version", "device_brand", "device_carrier", "device_model", "device_type", "os_version", "wifi", getvariable('pp_country_hashes')["country"] AS looked_up_country_hash FROM "pinterest_source")
), prepared AS NOT MATERIALIZED (
SELECT *, pp__lowered_ascii_digits(lpad(CAST("zip" AS VARCHAR), 5, '0')) AS pp_zip_f FROM numbered
), fields AS NOT MATERIALIZED (
SELECT source_row AS "source_row",
    pp_text("event_id") AS "event_id",
    pp_text(n.event_name) AS "source_event_name",
    CASE WHEN list_contains(CAST($page_view_keys AS VARCHAR[]), n.event_key) THEN CASE WHEN pp_text("content_category") IS NOT NULL THEN 'view_category' ELSE 'page_visit' END ELSE coalesce(map(CAST($event_keys AS VARCHAR[]), CAST($event_names AS VARCHAR[]))[n.event_key], CAST(NULL AS VARCHAR)) END AS "mapped_event_name",
    pp_local_to_epoch_s(CAST(floor(epoch("event_time")) AS BIGINT), $source_timezone) AS "event_time",
    ("event_time" IS NOT NULL) AS "event_time_given",
    coalesce(lower(pp_text("action_source")), CAST($default_action_source AS VARCHAR)) AS "action_source",
    pp_distinct_hashes(CASE WHEN len("email") <= 3 THEN [pp_hash_em(CAST("email"[1] AS VARCHAR)), pp_hash_em(CAST("email"[2] AS VARCHAR)), pp_hash_em(CAST("email"[3] AS VARCHAR))] WHEN len("email") > 3 THEN list_transform("email", lambda v: pp_hash_em(CAST(v AS VARCHAR))) END) AS "h_em",
    pp_distinct_hashes(CASE WHEN len("phone") <= 3 THEN [pp_hash_ph(CAST("phone"[1] AS VARCHAR), region), pp_hash_ph(CAST("phone"[2] AS VARCHAR), region), pp_hash_ph(CAST("phone"[3] AS VARCHAR), region)] WHEN len("phone") > 3 THEN list_transform("phone", lambda v: pp_hash_ph(CAST(v AS VARCHAR), region)) END) AS "h_ph",
    pp_hash_ge(CAST("gender" AS VARCHAR)) AS "h_ge",
    pp_hash_db(strftime("date_of_birth", '%Y-%m-%d')) AS "h_db",
    pp_hash_ln(CAST("last_name" AS VARCHAR)) AS "h_ln",
    pp_hash_fn(CAST("first_name" AS VARCHAR)) AS "h_fn",
    pp_hash_ct(CAST("city" AS VARCHAR)) AS "h_ct",
    looked_up_state_hash AS "h_st",
    pp__hash_or_passthrough(lpad(CAST("zip" AS VARCHAR), 5, '0'), pp__zp_normalized_of(pp_zip_f, region)) AS "h_zp",
    looked_up_country_hash AS "h_country",
    pp_hash_external_id(CAST("external_id" AS VARCHAR)) AS "h_external_id",
    pp_distinct_hashes(CASE WHEN len("maid") <= 3 THEN [pp_hash_maid(CAST("maid"[1] AS VARCHAR)), pp_hash_maid(CAST("maid"[2] AS VARCHAR)), pp_hash_maid(CAST("maid"[3] AS VARCHAR))] WHEN len("maid") > 3 THEN list_transform("maid", lambda v: pp_hash_maid(CAST(v AS VARCHAR))) END) AS "h_hashed_maids",
    pp_text("client_ip_address") AS "client_ip_address",
    pp_text("client_user_agent") AS "client_user_agent",
    coalesce(pp_text("click_id"), pp_epik(pp_text("event_source_url"))) AS "click_id",
    pp_text("partner_id") AS "partner_id",
    CASE WHEN len("phone") <= 3 THEN [pp_ph_warning(CAST("phone"[1] AS VARCHAR), region), pp_ph_warning(CAST("phone"[2] AS VARCHAR), region), pp_ph_warning(CAST("phone"[3] AS VARCHAR), region)] WHEN len("phone") > 3 THEN list_transform("phone", lambda v: pp_ph_warning(CAST(v AS VARCHAR), region)) END AS "phone_warnings",
    lpad(CAST(zip AS VARCHAR), 5, '0') AS "zip_text",
    pp_zip_f AS "pp_zip_f",
    region AS "region",
    pp_text("event_source_url") AS "event_source_url",
    pp_text("app_id") AS "app_id",
    pp_text("app_name") AS "app_name",
    pp_text("app_version") AS "app_version",
    pp_text("device_brand") AS "device_brand",
    pp_text("device_carrier") AS "device_carrier",
    pp_text("device_model") AS "device_model",
    pp_text("device_type") AS "device_type",
    pp_text("os_version") AS "os_version",
    pp_text("opt_out_type") AS "opt_out_type",
    pp_text("order_id") AS "order_id",
    pp_text("search_string") AS "search_string",
    pp_text("content_name") AS "content_name",
    pp_text("content_category") AS "content_category",
    pp_text("content_brand") AS "content_brand",
    TRY_CAST(pp_text("opt_out") AS BOOLEAN) AS "opt_out",
    "wifi" AS "wifi",
    pp_language("language", MAP(CAST($iso_639_1 AS VARCHAR[]), $iso_639_1)) AS "language",
    pp_plain_number("value") AS "value",
    ("value" IS NOT NULL) AS "value_given",
    pp_plain_decimal(pp_text("predicted_ltv")) AS "predicted_ltv",
    (pp_text("predicted_ltv") IS NOT NULL) AS "predicted_ltv_given",
    upper(pp_text("currency")) AS "currency_given",
    coalesce(map_contains(MAP(CAST($iso_4217 AS VARCHAR[]), $iso_4217), upper(pp_text("currency"))), false) AS "currency_valid",
    pp_integer_text(pp_text("num_items")) AS "num_items",
    ("num_items" IS NOT NULL) AS "num_items_given",
    list_transform(CASE WHEN json_valid(products) AND json_type(products) = 'ARRAY' THEN from_json(products, '[{"product_id":"VARCHAR","price":"VARCHAR","quantity":"VARCHAR","name":"VARCHAR","category":"VARCHAR","brand":"VARCHAR"}]') END, lambda p: {'id': pp_text(struct_extract(p, 'product_id')), 'item_price': pp_plain_decimal(pp_text(struct_extract(p, 'price'))), 'quantity': pp_integer_text(pp_text(struct_extract(p, 'quantity'))), 'item_name': pp_text(struct_extract(p, 'name')), 'item_category': pp_text(struct_extract(p, 'category')), 'item_brand': pp_text(struct_extract(p, 'brand')), 'price_given': (pp_text(struct_extract(p, 'price')) IS NOT NULL), 'quantity_given': (struct_extract(p, 'quantity') IS NOT NULL)}) AS "products"
  FROM prepared AS n
), checked AS NOT MATERIALIZED (
SELECT *, pp_nonempty(list_sort(list_distinct(list_filter(list_concat([CASE WHEN value_given AND value IS NULL THEN 'value_not_numeric' END, CASE WHEN predicted_ltv_given AND predicted_ltv IS NULL THEN 'predicted_ltv_not_numeric' END, CASE WHEN currency_given IS NOT NULL AND NOT currency_valid THEN 'currency_invalid' END, CASE WHEN pp_has_ldp(opt_out_type) AND NOT (coalesce(h_st = $sha256_ca, false) AND coalesce(h_country = $sha256_us, false)) THEN 'ldp_needs_st_and_country' END, CASE WHEN h_zp IS NULL AND zip_text IS NOT NULL THEN pp__zp_warning_of(pp__sha256_hex(zip_text) IS NOT NULL, pp_zip_f, region) END, CASE WHEN num_items_given AND num_items IS NULL THEN 'num_items_not_integer' END, CASE WHEN list_bool_or(list_transform(products, lambda p: p.price_given AND p.item_price IS NULL)) THEN 'item_price_not_numeric' END, CASE WHEN list_bool_or(list_transform(products, lambda p: p.quantity_given AND p.quantity IS NULL)) THEN 'quantity_not_integer' END], phone_warnings), lambda w: w IS NOT NULL)))) AS warnings, CASE WHEN currency_valid THEN currency_given WHEN currency_given IS NULL AND value IS NOT NULL THEN CAST($default_currency AS VARCHAR) END AS currency
  FROM (SELECT *, CASE
        WHEN event_id IS NULL THEN 'missing_event_id'
        WHEN source_event_name IS NULL THEN 'missing_event_name'
        WHEN mapped_event_name IS NULL THEN 'unknown_event_name'
        WHEN event_time IS NULL THEN 'invalid_event_time'
        WHEN event_time < CAST($oldest_s AS BIGINT) THEN 'too_old'
        WHEN event_time > CAST($latest_s AS BIGINT) THEN 'in_future'
        WHEN action_source IS NULL THEN 'missing_action_source'
        WHEN NOT list_contains(CAST($action_sources AS VARCHAR[]), action_source) THEN 'invalid_action_source'
        WHEN NOT (h_em IS NOT NULL OR h_hashed_maids IS NOT NULL OR (client_ip_address IS NOT NULL AND client_user_agent IS NOT NULL)) THEN 'missing_identifier'
    END AS reason FROM fields) WHERE reason IS NULL
)
SELECT source_row, event_id, mapped_event_name AS event_name, event_time, CAST(timezone($partition_timezone, to_timestamp(event_time)) AS DATE) AS partition_day,
       action_source, concat('{', concat_ws(',', pp_plain_str_field('event_name', mapped_event_name), pp_plain_str_field('action_source', action_source), pp_raw_field('event_time', event_time), pp_str_field('event_id', event_id), pp_str_field('event_source_url', event_source_url), pp_raw_field('opt_out', opt_out), pp_plain_str_field('partner_name', CAST($partner_name AS VARCHAR)), pp_str_field('app_id', app_id), pp_str_field('app_name', app_name), pp_str_field('app_version', app_version), pp_str_field('device_brand', device_brand), pp_str_field('device_carrier', device_carrier), pp_str_field('device_model', device_model), pp_str_field('device_type', device_type), pp_str_field('os_version', os_version), pp_raw_field('wifi', wifi), pp_plain_str_field('language', language)), ',"user_data":{', concat_ws(',', pp_hash_list_field('em', h_em), pp_hash_list_field('ph', h_ph), pp_hash_field('ge', h_ge), pp_hash_field('db', h_db), pp_hash_field('ln', h_ln), pp_hash_field('fn', h_fn), pp_hash_field('ct', h_ct), pp_hash_field('st', h_st), pp_hash_field('zp', h_zp), pp_hash_field('country', h_country), pp_hash_field('external_id', h_external_id), pp_hash_list_field('hashed_maids', h_hashed_maids), pp_str_field('client_ip_address', client_ip_address), pp_str_field('client_user_agent', client_user_agent), pp_str_field('click_id', click_id), pp_str_field('partner_id', partner_id)), '}', ',"custom_data":{' || nullif(concat_ws(',', pp_plain_str_field('value', value), pp_plain_str_field('currency', currency), CASE WHEN len(list_filter(products, lambda p: p.id IS NOT NULL)) > 0 THEN '"content_ids":' || CAST(to_json(list_transform(list_filter(products, lambda p: p.id IS NOT NULL), lambda p: p.id)) AS VARCHAR) END, CASE WHEN len(list_filter(list_transform(products, lambda p: concat_ws(',', pp_str_field('id', p.id), pp_plain_str_field('item_price', p.item_price), pp_raw_field('quantity', p.quantity), pp_str_field('item_name', p.item_name), pp_str_field('item_category', p.item_category), pp_str_field('item_brand', p.item_brand))), lambda c: c <> '')) > 0 THEN '"contents":[{' || array_to_string(list_filter(list_transform(products, lambda p: concat_ws(',', pp_str_field('id', p.id), pp_plain_str_field('item_price', p.item_price), pp_raw_field('quantity', p.quantity), pp_str_field('item_name', p.item_name), pp_str_field('item_category', p.item_category), pp_str_field('item_brand', p.item_brand))), lambda c: c <> ''), '},{') || '}]' END, pp_raw_field('num_items', coalesce(num_items, CASE WHEN list_bool_or(list_transform(products, lambda p: p.quantity IS NOT NULL)) THEN list_sum(list_transform(products, lambda p: p.quantity)) END)), pp_str_field('order_id', order_id), pp_str_field('search_string', search_string), pp_str_field('content_name', content_name), pp_str_field('content_category', content_category), pp_str_field('content_brand', content_brand), pp_str_field('opt_out_type', opt_out_type), pp_plain_str_field('predicted_ltv', predicted_ltv)), '') || '}', '}', chr(10)) AS event_json, warnings
  FROM checked;
