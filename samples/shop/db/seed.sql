-- Orders of an earlier customer, carol, so that migrations meet existing rows as in production.
INSERT INTO orders (id, owner, status, total_cents, currency, payment_id, created_at)
SELECT 'ord_seed' || lpad(n::text, 4, '0'), 'carol', 'confirmed', 850 * n, 'EUR', 'pay_seed' || n,
       timestamptz '2025-01-01 00:00:00+00' + n * interval '1 hour'
FROM generate_series(1, 200) AS n;

INSERT INTO order_items (order_id, position, sku, name, quantity, unit_price_cents, line_total_cents)
SELECT 'ord_seed' || lpad(n::text, 4, '0'), 0, 'tea', 'Sencha green tea, 100 g', n, 850, 850 * n
FROM generate_series(1, 200) AS n;
