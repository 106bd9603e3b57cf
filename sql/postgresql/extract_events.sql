-- extract_events: behavioural events of one time window as conversion rows (docs/rules.md, "The source contract"), in
-- PostgreSQL's dialect, run in the warehouse through ADBC (`--warehouse-adbc postgresql`).
--
-- The same rows and columns as the DuckDB example one directory up, over the same tables in a
-- PostgreSQL schema. The differences are PostgreSQL's: the products list is a JSON array (a JSON
-- array of objects is a valid `products` column), the ad ids a text[] array, and amounts are cast
-- to NUMERIC(p, s), which reaches the pipeline as DECIMAL(p, s).
--
-- Parameters: $window_start, $window_end, the half-open window [start, end) of one partition; the
-- pipeline binds them as TIMESTAMPTZ, in PostgreSQL's $1/$2 (never formatted into the text).
-- The session is READ ONLY: nothing here can write to the warehouse.
SELECT
    -- The SDK's message id: the same id the Pinterest tag sends, so Pinterest deduplicates the two.
    e.event_id,
    e.event_name,
    e.occurred_at AS event_time,
    e.channel AS action_source,

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
    -- The device's ad id and the one last seen for the customer, those that are set.
    NULLIF(array_remove(ARRAY[e.advertising_id, c.mobile_ad_id], NULL), '{}') AS maid,
    e.ip AS client_ip_address,
    e.user_agent AS client_user_agent,
    e.page_url AS event_source_url,
    e.locale AS language,

    NOT e.ad_tracking_enabled AS opt_out,
    CASE WHEN c.ccpa_do_not_sell THEN 'LDP' END AS opt_out_type,

    e.value::numeric(12, 2) AS value,
    e.currency,
    e.search_query AS search_string,
    e.page_category AS content_category,
    CASE WHEN e.product_sku IS NOT NULL THEN json_build_array(json_build_object(
        'product_id', e.product_sku,
        'price', e.price::numeric(10, 2),
        'quantity', e.quantity,
        'name', p.name,
        'category', p.category,
        'brand', p.brand
    )) END AS products,

    e.app_id,
    e.app_name,
    e.app_version,
    e.device_brand,
    e.device_carrier,
    e.device_model,
    e.device_type,
    e.os_version,
    e.wifi
FROM events AS e
LEFT JOIN customers AS c ON c.customer_id = e.user_id
LEFT JOIN products AS p ON p.sku = e.product_sku
WHERE e.occurred_at >= $window_start AND e.occurred_at < $window_end
-- A stable order, byte-wise like DuckDB's, whatever the database's collation: the first of two
-- rows with the same event id is the one sent.
ORDER BY e.occurred_at, e.event_id COLLATE "C"
