-- extract_events: behavioural events of one time window as conversion rows (docs/rules.md, "The source contract"), read from Parquet files.
--
-- The same query as the DuckDB-file example one directory up, with each warehouse table read from
-- a directory of Parquet files: `data/<table>/*.parquet`. Relative paths resolve against this
-- file's directory, so copy the two files next to your `data/` directory (or write absolute paths,
-- `s3://` URLs with a `setup` that loads httpfs, or CSV/JSON readers: read_csv, read_json). A table
-- partitioned by day (`data/events/day=2024-06-01/part-0.parquet`) is read with
-- `read_parquet('data/events/*/*.parquet', hive_partitioning = true)`; filtering on the partition
-- column as well as the timestamp lets DuckDB skip the other days' files.
--
-- Parameters (bound, never formatted into the text):
--   $window_start, $window_end  TIMESTAMPTZ, the half-open window [start, end) of one partition.
-- Keep the output column names and types; the pipeline unions this extract with extract_orders.sql by name.
SELECT
    -- The SDK's message id: the same id the Pinterest tag sends, so Pinterest deduplicates the two.
    -- Rows without one are rejected downstream (an id is never invented).
    e.event_id,
    -- Source names as the tracking plan spells them ('Product Added', 'AddToCart', 'page', ...);
    -- the taxonomy maps them to Pinterest's names.
    e.event_name,
    e.occurred_at AS event_time,
    -- web / app_ios / app_android / offline; anything else is rejected, NULL takes the configured default.
    e.channel AS action_source,

    -- Identity of a known user; anonymous events (user_id NULL) rely on the device's ad id or on
    -- IP address plus user agent.
    c.email,
    c.phone,
    c.first_name,
    c.last_name,
    c.gender,
    c.birthday AS date_of_birth,
    c.city,
    c.state,
    c.zip,
    c.country,
    c.customer_key AS external_id,
    -- Several mobile ad ids per row are allowed: the device's own and the one last seen for the customer.
    nullif([id FOR id IN [e.advertising_id, c.mobile_ad_id] IF id IS NOT NULL], []) AS maid,
    e.ip AS client_ip_address,
    e.user_agent AS client_user_agent,
    -- The click id is read from the `epik` parameter of this URL when present.
    e.page_url AS event_source_url,
    e.locale AS language,

    -- Privacy: app users who turned ad tracking off opt out; Californians who opted out of sale
    -- under CCPA are sent with Limited Data Processing.
    NOT e.ad_tracking_enabled AS opt_out,
    CASE WHEN c.ccpa_do_not_sell THEN 'LDP' END AS opt_out_type,

    e.value,
    e.currency,
    e.search_query AS search_string,
    -- A page view with a category becomes view_category, without one page_visit.
    e.page_category AS content_category,
    CASE WHEN e.product_sku IS NOT NULL THEN [{
        'product_id': e.product_sku,
        'price': e.price,
        'quantity': e.quantity,
        'name': p.name,
        'category': p.category,
        'brand': p.brand
    }] END AS products,

    e.app_id,
    e.app_name,
    e.app_version,
    e.device_brand,
    e.device_carrier,
    e.device_model,
    e.device_type,
    e.os_version,
    e.wifi
FROM read_parquet('data/events/*.parquet') AS e
LEFT JOIN read_parquet('data/customers/*.parquet') AS c ON c.customer_id = e.user_id
LEFT JOIN read_parquet('data/products/*.parquet') AS p ON p.sku = e.product_sku
WHERE e.occurred_at >= $window_start AND e.occurred_at < $window_end
-- A stable order: the first of two rows with the same event id is the one sent.
ORDER BY e.occurred_at, e.event_id
