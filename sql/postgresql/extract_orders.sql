-- extract_orders: completed orders of one time window as conversion rows (docs/rules.md, "The source contract"), in
-- PostgreSQL's dialect, run in the warehouse through ADBC (`--warehouse-adbc postgresql`).
--
-- The same rows and columns as the DuckDB example one directory up, over the same tables in a
-- PostgreSQL schema. The differences are PostgreSQL's: the products list is built as a JSON array
-- (a JSON array of objects is a valid `products` column), and amounts are cast to NUMERIC(p, s),
-- which reaches the pipeline as DECIMAL(p, s).
--
-- Parameters: $window_start, $window_end, the half-open window [start, end) of one partition; the
-- pipeline binds them as TIMESTAMPTZ, in PostgreSQL's $1/$2 (never formatted into the text).
-- The session is READ ONLY: nothing here can write to the warehouse.
WITH window_orders AS (
    SELECT *
    FROM orders
    WHERE placed_at >= $window_start AND placed_at < $window_end
),

-- One JSON array of products per order, in line order.
order_products AS (
    SELECT
        i.order_id,
        json_agg(json_build_object(
            'product_id', i.sku,
            'price', i.unit_price::numeric(10, 2),
            'quantity', i.quantity,
            'name', p.name,
            'category', p.category,
            'brand', p.brand
        ) ORDER BY i.line_number) AS products
    FROM order_items AS i
    JOIN window_orders AS o ON o.order_id = i.order_id
    LEFT JOIN products AS p ON p.sku = i.sku
    GROUP BY i.order_id
)

SELECT
    -- The order id is the event id, as the Pinterest tag's checkout event should send it.
    o.order_id AS event_id,
    'Order Completed'::text AS event_name,
    o.placed_at AS event_time,
    o.channel AS action_source,

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
    -- An array, as in extract_events.sql: shared columns of the two extracts have one type.
    CASE WHEN c.mobile_ad_id IS NOT NULL THEN ARRAY[c.mobile_ad_id] END AS maid,
    o.client_ip AS client_ip_address,
    o.user_agent AS client_user_agent,
    o.checkout_url AS event_source_url,

    -- Californians who opted out of sale under CCPA are sent with Limited Data Processing.
    CASE WHEN c.ccpa_do_not_sell THEN 'LDP' END AS opt_out_type,

    o.total::numeric(12, 2) AS value,
    o.currency,
    o.order_id,
    op.products
FROM window_orders AS o
LEFT JOIN order_products AS op ON op.order_id = o.order_id
LEFT JOIN customers AS c ON c.customer_id = o.customer_id
-- A stable order, byte-wise like DuckDB's, whatever the database's collation.
ORDER BY o.placed_at, o.order_id COLLATE "C"
