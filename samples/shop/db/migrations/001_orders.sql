-- Orders and their lines. The API's order is one row of orders and its order_items in position order.
CREATE TABLE orders (
  seq bigserial UNIQUE,
  id text PRIMARY KEY,
  owner text NOT NULL,
  status text NOT NULL,
  total_cents integer NOT NULL,
  currency text NOT NULL,
  payment_id text,
  created_at timestamptz NOT NULL
);

CREATE INDEX orders_owner_seq ON orders (owner, seq);

CREATE TABLE order_items (
  order_id text NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  position integer NOT NULL,
  sku text NOT NULL,
  name text NOT NULL,
  quantity integer NOT NULL,
  unit_price_cents integer NOT NULL,
  line_total_cents integer NOT NULL,
  PRIMARY KEY (order_id, position)
);
