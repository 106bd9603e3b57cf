-- lookups (session variables set before the row checks)

-- row checks
WITH numbered AS NOT MATERIALIZED (
SELECT (rowid - 0) + 1 AS source_row, CAST($default_country AS VARCHAR) AS region, regexp_replace(lower(pp_text("event_name")), '[^\p{L}\p{N}]+', '', 'g') AS event_key, "event_id", "event_name", "event_time", "email" FROM "pinterest_source"
), fields AS NOT MATERIALIZED (
SELECT source_row AS "source_row",
    pp_text("event_id") AS "event_id",
    pp_text(n.event_name) AS "source_event_name",
    CASE WHEN list_contains(CAST($page_view_keys AS VARCHAR[]), n.event_key) THEN CASE WHEN CAST(NULL AS VARCHAR) IS NOT NULL THEN 'view_category' ELSE 'page_visit' END ELSE coalesce(map(CAST($event_keys AS VARCHAR[]), CAST($event_names AS VARCHAR[]))[n.event_key], 'custom') END AS "mapped_event_name",
    CASE WHEN regexp_full_match(trim("event_time"), '-?\d+') THEN pp_epoch_number_to_s(TRY_CAST(trim("event_time") AS HUGEINT)) WHEN pp_has_utc_offset(trim("event_time")) THEN CAST(floor(epoch(TRY_CAST(trim("event_time") AS TIMESTAMPTZ))) AS BIGINT) ELSE CAST(floor(epoch(TRY_CAST(trim("event_time") AS TIMESTAMP))) AS BIGINT) END AS "event_time",
    (pp_text("event_time") IS NOT NULL) AS "event_time_given",
    coalesce(lower(CAST(NULL AS VARCHAR)), CAST($default_action_source AS VARCHAR)) AS "action_source",
    pp_hash_em(CAST("email" AS VARCHAR)) AS "h_em"
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
        WHEN NOT (h_em IS NOT NULL) THEN 'missing_identifier'
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
--   event_keys = ["addshippinginfo", "addtocart", "appinstall", "applicationinstalled", "applicationopened", "appopen", "begincheckout", "buy", "checkout", "checkoutstarted", "completeregistration", "custom", "customizeproduct", "generatelead", "initiatecheckout", "lead", "login", "ordercompleted", "page", "pageview", "pageviewed", "pagevisit", "pay", "payment", "paymentinfoentered", "productadded", "productaddedtowishlist", "productcategoryviewed", "productlistfiltered", "productssearched", "productvideowatched", "productviewed", "purchase", "refund", "removefromcart", "schedule", "search", "selectcontent", "selectitem", "selectpromotion", "signedup", "signup", "starttrial", "subscribe", "trialstarted", "viewcart", "viewcategory", "viewitem", "viewitemlist", "viewpromotion", "watchvideo"]
--   event_names = ["custom", "add_to_cart", "app_install", "app_install", "app_open", "app_open", "custom", "checkout", "checkout", "initiate_checkout", "signup", "custom", "customize_product", "lead", "initiate_checkout", "lead", "custom", "checkout", "page_visit", "page_visit", "page_visit", "page_visit", "checkout", "checkout", "add_payment_info", "add_to_cart", "add_to_wishlist", "view_category", "search", "search", "watch_video", "view_content", "checkout", "custom", "custom", "schedule", "search", "custom", "custom", "custom", "signup", "signup", "start_trial", "subscribe", "start_trial", "custom", "view_category", "page_visit", "view_category", "custom", "watch_video"]
--   in_future_text = " is more than 5 minutes after the run's clock (2024-06-02T12:00:00Z)"
--   latest_s = 1717329900
--   oldest_s = 1716724800
--   page_view_keys = ["page", "pageview", "pageviewed"]
--   partition_timezone = "UTC"
--   taxonomy = "default"
--   too_old_text = " is more than 7 days before the run's clock (2024-06-02T12:00:00Z)"

-- events
WITH numbered AS NOT MATERIALIZED (
SELECT (rowid - 0) + 1 AS source_row, CAST($default_country AS VARCHAR) AS region, regexp_replace(lower(pp_text("event_name")), '[^\p{L}\p{N}]+', '', 'g') AS event_key, "event_id", "event_name", "event_time", "email" FROM "pinterest_source"
), prepared AS NOT MATERIALIZED (
SELECT * FROM numbered
), fields AS NOT MATERIALIZED (
SELECT source_row AS "source_row",
    pp_text("event_id") AS "event_id",
    pp_text(n.event_name) AS "source_event_name",
    CASE WHEN list_contains(CAST($page_view_keys AS VARCHAR[]), n.event_key) THEN CASE WHEN CAST(NULL AS VARCHAR) IS NOT NULL THEN 'view_category' ELSE 'page_visit' END ELSE coalesce(map(CAST($event_keys AS VARCHAR[]), CAST($event_names AS VARCHAR[]))[n.event_key], 'custom') END AS "mapped_event_name",
    CASE WHEN regexp_full_match(trim("event_time"), '-?\d+') THEN pp_epoch_number_to_s(TRY_CAST(trim("event_time") AS HUGEINT)) WHEN pp_has_utc_offset(trim("event_time")) THEN CAST(floor(epoch(TRY_CAST(trim("event_time") AS TIMESTAMPTZ))) AS BIGINT) ELSE CAST(floor(epoch(TRY_CAST(trim("event_time") AS TIMESTAMP))) AS BIGINT) END AS "event_time",
    (pp_text("event_time") IS NOT NULL) AS "event_time_given",
    coalesce(lower(CAST(NULL AS VARCHAR)), CAST($default_action_source AS VARCHAR)) AS "action_source",
    pp_hash_em(CAST("email" AS VARCHAR)) AS "h_em",
    CAST(NULL AS VARCHAR) AS "value",
    false AS "value_given",
    CAST(NULL AS VARCHAR) AS "predicted_ltv",
    false AS "predicted_ltv_given",
    CAST(NULL AS VARCHAR) AS "currency_given",
    false AS "currency_valid"
  FROM prepared AS n
), checked AS NOT MATERIALIZED (
SELECT *, list_filter([string_split(concat_ws(',', CASE WHEN currency_given IS NOT NULL AND NOT currency_valid THEN 'currency_invalid' END, CASE WHEN predicted_ltv_given AND predicted_ltv IS NULL THEN 'predicted_ltv_not_numeric' END, CASE WHEN value_given AND value IS NULL THEN 'value_not_numeric' END), ',')], lambda pp_w: pp_w <> [''])[1] AS warnings, CASE WHEN currency_valid THEN currency_given WHEN currency_given IS NULL AND value IS NOT NULL THEN CAST($default_currency AS VARCHAR) END AS currency
  FROM (SELECT *, CASE
        WHEN event_id IS NULL THEN 'missing_event_id'
        WHEN source_event_name IS NULL THEN 'missing_event_name'
        WHEN mapped_event_name IS NULL THEN 'unknown_event_name'
        WHEN event_time IS NULL THEN 'invalid_event_time'
        WHEN event_time < CAST($oldest_s AS BIGINT) THEN 'too_old'
        WHEN event_time > CAST($latest_s AS BIGINT) THEN 'in_future'
        WHEN action_source IS NULL THEN 'missing_action_source'
        WHEN NOT list_contains(CAST($action_sources AS VARCHAR[]), action_source) THEN 'invalid_action_source'
        WHEN NOT (h_em IS NOT NULL) THEN 'missing_identifier'
    END AS reason FROM fields) WHERE reason IS NULL
)
SELECT source_row, event_id, mapped_event_name AS event_name, event_time, CAST(timezone($partition_timezone, to_timestamp(event_time)) AS DATE) AS partition_day,
       action_source, concat('{', concat_ws(',', pp_plain_str_field('event_name', mapped_event_name), pp_plain_str_field('action_source', action_source), pp_raw_field('event_time', event_time), pp_str_field('event_id', event_id), pp_plain_str_field('partner_name', CAST($partner_name AS VARCHAR))), ',"user_data":{', concat_ws(',', pp_hash_field('em', h_em)), '}', ',"custom_data":{' || nullif(concat_ws(',', pp_plain_str_field('value', value), pp_plain_str_field('currency', currency), pp_plain_str_field('predicted_ltv', predicted_ltv)), '') || '}', '}') AS event_json, warnings
  FROM checked;
-- event parameters
--   action_sources = ["app_android", "app_ios", "web", "offline"]
--   default_action_source = null
--   default_country = null
--   default_currency = null
--   event_keys = ["addshippinginfo", "addtocart", "appinstall", "applicationinstalled", "applicationopened", "appopen", "begincheckout", "buy", "checkout", "checkoutstarted", "completeregistration", "custom", "customizeproduct", "generatelead", "initiatecheckout", "lead", "login", "ordercompleted", "page", "pageview", "pageviewed", "pagevisit", "pay", "payment", "paymentinfoentered", "productadded", "productaddedtowishlist", "productcategoryviewed", "productlistfiltered", "productssearched", "productvideowatched", "productviewed", "purchase", "refund", "removefromcart", "schedule", "search", "selectcontent", "selectitem", "selectpromotion", "signedup", "signup", "starttrial", "subscribe", "trialstarted", "viewcart", "viewcategory", "viewitem", "viewitemlist", "viewpromotion", "watchvideo"]
--   event_names = ["custom", "add_to_cart", "app_install", "app_install", "app_open", "app_open", "custom", "checkout", "checkout", "initiate_checkout", "signup", "custom", "customize_product", "lead", "initiate_checkout", "lead", "custom", "checkout", "page_visit", "page_visit", "page_visit", "page_visit", "checkout", "checkout", "add_payment_info", "add_to_cart", "add_to_wishlist", "view_category", "search", "search", "watch_video", "view_content", "checkout", "custom", "custom", "schedule", "search", "custom", "custom", "custom", "signup", "signup", "start_trial", "subscribe", "start_trial", "custom", "view_category", "page_visit", "view_category", "custom", "watch_video"]
--   latest_s = 1717329900
--   oldest_s = 1716724800
--   page_view_keys = ["page", "pageview", "pageviewed"]
--   partition_timezone = "UTC"
--   partner_name = null

-- events, line-terminated (NDJSON output)
WITH numbered AS NOT MATERIALIZED (
SELECT (rowid - 0) + 1 AS source_row, CAST($default_country AS VARCHAR) AS region, regexp_replace(lower(pp_text("event_name")), '[^\p{L}\p{N}]+', '', 'g') AS event_key, "event_id", "event_name", "event_time", "email" FROM "pinterest_source"
), prepared AS NOT MATERIALIZED (
SELECT * FROM numbered
), fields AS NOT MATERIALIZED (
SELECT source_row AS "source_row",
    pp_text("event_id") AS "event_id",
    pp_text(n.event_name) AS "source_event_name",
    CASE WHEN list_contains(CAST($page_view_keys AS VARCHAR[]), n.event_key) THEN CASE WHEN CAST(NULL AS VARCHAR) IS NOT NULL THEN 'view_category' ELSE 'page_visit' END ELSE coalesce(map(CAST($event_keys AS VARCHAR[]), CAST($event_names AS VARCHAR[]))[n.event_key], 'custom') END AS "mapped_event_name",
    CASE WHEN regexp_full_match(trim("event_time"), '-?\d+') THEN pp_epoch_number_to_s(TRY_CAST(trim("event_time") AS HUGEINT)) WHEN pp_has_utc_offset(trim("event_time")) THEN CAST(floor(epoch(TRY_CAST(trim("event_time") AS TIMESTAMPTZ))) AS BIGINT) ELSE CAST(floor(epoch(TRY_CAST(trim("event_time") AS TIMESTAMP))) AS BIGINT) END AS "event_time",
    (pp_text("event_time") IS NOT NULL) AS "event_time_given",
    coalesce(lower(CAST(NULL AS VARCHAR)), CAST($default_action_source AS VARCHAR)) AS "action_source",
    pp_hash_em(CAST("email" AS VARCHAR)) AS "h_em",
    CAST(NULL AS VARCHAR) AS "value",
    false AS "value_given",
    CAST(NULL AS VARCHAR) AS "predicted_ltv",
    false AS "predicted_ltv_given",
    CAST(NULL AS VARCHAR) AS "currency_given",
    false AS "currency_valid"
  FROM prepared AS n
), checked AS NOT MATERIALIZED (
SELECT *, list_filter([string_split(concat_ws(',', CASE WHEN currency_given IS NOT NULL AND NOT currency_valid THEN 'currency_invalid' END, CASE WHEN predicted_ltv_given AND predicted_ltv IS NULL THEN 'predicted_ltv_not_numeric' END, CASE WHEN value_given AND value IS NULL THEN 'value_not_numeric' END), ',')], lambda pp_w: pp_w <> [''])[1] AS warnings, CASE WHEN currency_valid THEN currency_given WHEN currency_given IS NULL AND value IS NOT NULL THEN CAST($default_currency AS VARCHAR) END AS currency
  FROM (SELECT *, CASE
        WHEN event_id IS NULL THEN 'missing_event_id'
        WHEN source_event_name IS NULL THEN 'missing_event_name'
        WHEN mapped_event_name IS NULL THEN 'unknown_event_name'
        WHEN event_time IS NULL THEN 'invalid_event_time'
        WHEN event_time < CAST($oldest_s AS BIGINT) THEN 'too_old'
        WHEN event_time > CAST($latest_s AS BIGINT) THEN 'in_future'
        WHEN action_source IS NULL THEN 'missing_action_source'
        WHEN NOT list_contains(CAST($action_sources AS VARCHAR[]), action_source) THEN 'invalid_action_source'
        WHEN NOT (h_em IS NOT NULL) THEN 'missing_identifier'
    END AS reason FROM fields) WHERE reason IS NULL
)
SELECT source_row, event_id, mapped_event_name AS event_name, event_time, CAST(timezone($partition_timezone, to_timestamp(event_time)) AS DATE) AS partition_day,
       action_source, concat('{', concat_ws(',', pp_plain_str_field('event_name', mapped_event_name), pp_plain_str_field('action_source', action_source), pp_raw_field('event_time', event_time), pp_str_field('event_id', event_id), pp_plain_str_field('partner_name', CAST($partner_name AS VARCHAR))), ',"user_data":{', concat_ws(',', pp_hash_field('em', h_em)), '}', ',"custom_data":{' || nullif(concat_ws(',', pp_plain_str_field('value', value), pp_plain_str_field('currency', currency), pp_plain_str_field('predicted_ltv', predicted_ltv)), '') || '}', '}', chr(10)) AS event_json, warnings
  FROM checked;
