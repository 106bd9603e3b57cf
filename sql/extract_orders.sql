-- extract_orders: completed orders of one time window as conversion rows (docs/rules.md, "The source contract").
--
-- This file and extract_events.sql are the only place that knows the warehouse's schema. Adapt them
-- to your own tables: keep the output column names, drop the ones you do not have (only event_id,
-- event_name, event_time and an identifier are required), and keep the window filter. The pipeline
-- unions the two extracts by column name, so a column both yield must have the same type in both.
--
-- Parameters (bound, never formatted into the text):
--   $window_start, $window_end  TIMESTAMPTZ, the half-open window [start, end) of one partition.
-- The warehouse is attached READ_ONLY under the alias `warehouse`; nothing here can write to it.
--
-- Raw identifiers (email, phone, names...) are selected as they are: normalization and SHA-256 hashing
-- happen in the pipeline's next step, inside DuckDB, before anything leaves the machine.
WITH window_orders AS (
    SELECT *
    FROM warehouse.orders
    WHERE placed_at >= $window_start AND placed_at < $window_end
),

-- One list of products per order, in line order. Joining the window's orders first lets DuckDB skip
-- the order lines of other days.
order_products AS (
    SELECT
        i.order_id,
        list({
            'product_id': i.sku,
            'price': i.unit_price,
            'quantity': i.quantity,
            'name': p.name,
            'category': p.category,
            'brand': p.brand
        } ORDER BY i.line_number) AS products
    FROM warehouse.order_items AS i
    JOIN window_orders AS o ON o.order_id = i.order_id
    LEFT JOIN warehouse.products AS p ON p.sku = i.sku
    GROUP BY i.order_id
)

SELECT
    -- The order id is the event id: the Pinterest tag's checkout event should send the same one, so
    -- that Pinterest counts the order once.
    o.order_id AS event_id,
    'Order Completed' AS event_name,
    o.placed_at AS event_time,
    -- web / app_ios / app_android / offline (store sales); anything else is rejected.
    o.channel AS action_source,

    -- Identity of the buyer; guest checkouts (customer_id NULL) rely on IP address plus user agent.
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
    -- A list, as in extract_events.sql: the two extracts are unioned by name, so shared columns
    -- must have the same types.
    CASE WHEN c.mobile_ad_id IS NOT NULL THEN [c.mobile_ad_id] END AS maid,
    o.client_ip AS client_ip_address,
    o.user_agent AS client_user_agent,
    -- The click id is read from the `epik` parameter of this URL when present.
    o.checkout_url AS event_source_url,

    -- Californians who opted out of sale under CCPA are sent with Limited Data Processing.
    CASE WHEN c.ccpa_do_not_sell THEN 'LDP' END AS opt_out_type,

    o.total AS value,
    o.currency,
    o.order_id,
    op.products
FROM window_orders AS o
LEFT JOIN order_products AS op ON op.order_id = o.order_id
LEFT JOIN warehouse.customers AS c ON c.customer_id = o.customer_id
-- A stable order, so that re-running a window gives the same rows in the same order.
ORDER BY o.placed_at, o.order_id
