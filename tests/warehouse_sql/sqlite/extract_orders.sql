-- extract_orders in SQLite's dialect, over the sample warehouse copied into SQLite (see
-- tests/test_warehouse_sqlite.py): times are ISO-8601 text in UTC, amounts exact decimal text.
-- SQLite has no arrays: the products list is a JSON array, the one ad id a plain value.
WITH window_orders AS (
    SELECT *
    FROM orders
    WHERE placed_at >= $window_start AND placed_at < $window_end
),

order_products AS (
    SELECT
        i.order_id,
        json_group_array(json_object(
            'product_id', i.sku,
            'price', i.unit_price,
            'quantity', i.quantity,
            'name', p.name,
            'category', p.category,
            'brand', p.brand
        )) AS products
    FROM (SELECT * FROM order_items ORDER BY order_id, line_number) AS i
    JOIN window_orders AS o ON o.order_id = i.order_id
    LEFT JOIN products AS p ON p.sku = i.sku
    GROUP BY i.order_id
)

SELECT
    o.order_id AS event_id,
    'Order Completed' AS event_name,
    o.placed_at || 'Z' AS event_time,
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
    c.mobile_ad_id AS maid,
    o.client_ip AS client_ip_address,
    o.user_agent AS client_user_agent,
    o.checkout_url AS event_source_url,
    CASE WHEN c.ccpa_do_not_sell THEN 'LDP' END AS opt_out_type,
    o.total AS value,
    o.currency,
    o.order_id,
    op.products
FROM window_orders AS o
LEFT JOIN order_products AS op ON op.order_id = o.order_id
LEFT JOIN customers AS c ON c.customer_id = o.customer_id
ORDER BY o.placed_at, o.order_id
