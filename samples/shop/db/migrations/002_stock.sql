-- Stock of the limited SKUs, which orders reserves itself when an order is placed (every other SKU is only
-- counted by catalog). The CHECK is the guard: a reservation that would take more than is left fails whole.
CREATE TABLE stock (
  sku text PRIMARY KEY,
  available integer NOT NULL CHECK (available >= 0),
  sold integer NOT NULL DEFAULT 0 CHECK (sold >= 0)
);

-- The limited edition: three hand-thrown teapots.
INSERT INTO stock (sku, available) VALUES ('kyusu', 3);
