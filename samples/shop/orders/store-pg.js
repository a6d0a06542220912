// PostgreSQL order storage (DATABASE_URL): an order is a row of orders and its order_items, written in one
// transaction. Schema: db/migrations.
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })
pool.on('error', (error) => console.error(`orders: database: ${error.message}`))

export async function saveOrder(order) {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(
      `INSERT INTO orders (id, owner, status, total_cents, currency, payment_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        order.id,
        order.owner,
        order.status,
        order.totalCents,
        order.currency,
        order.paymentId,
        order.createdAt,
      ],
    )
    await client.query(
      `INSERT INTO order_items (order_id, position, sku, name, quantity, unit_price_cents, line_total_cents)
       SELECT $1, e.ord - 1, i.sku, i.name, i.quantity, i.unit_price_cents, i.line_total_cents
       FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(item, ord),
         jsonb_to_record(e.item)
           AS i(sku text, name text, quantity int, unit_price_cents int, line_total_cents int)`,
      [
        order.id,
        JSON.stringify(
          order.items.map((item) => ({
            sku: item.sku,
            name: item.name,
            quantity: item.quantity,
            unit_price_cents: item.unitPriceCents,
            line_total_cents: item.lineTotalCents,
          })),
        ),
      ],
    )
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

const SELECT = `
  SELECT o.id, o.status, o.owner, o.total_cents, o.currency, o.payment_id, o.created_at,
    (SELECT json_agg(json_build_object('sku', i.sku, 'name', i.name, 'quantity', i.quantity,
              'unitPriceCents', i.unit_price_cents, 'lineTotalCents', i.line_total_cents) ORDER BY i.position)
       FROM order_items i WHERE i.order_id = o.id) AS items
  FROM orders o`

function toOrder(row) {
  return {
    id: row.id,
    status: row.status,
    owner: row.owner,
    items: row.items ?? [],
    totalCents: row.total_cents,
    currency: row.currency,
    paymentId: row.payment_id,
    createdAt: row.created_at.toISOString(),
  }
}

export async function findOrder(id, owner) {
  const { rows } = await pool.query(`${SELECT} WHERE o.id = $1 AND o.owner = $2`, [id, owner])
  return rows[0] ? toOrder(rows[0]) : undefined
}

export async function listOrders(owner, limit) {
  const { rows } = await pool.query(`${SELECT} WHERE o.owner = $1 ORDER BY o.seq DESC LIMIT $2`, [
    owner,
    limit,
  ])
  return rows.map(toOrder)
}

/** Postgres' code for a violated CHECK constraint: here, a reservation of more than is left. */
const CHECK_VIOLATION = '23514'

export async function reserveStock(wanted) {
  const skus = [...wanted.keys()]
  try {
    // One statement: the rows of the limited SKUs are locked, taken from and checked together, so concurrent
    // orders queue on them and none can take what another already took.
    await pool.query(
      `UPDATE stock s SET available = s.available - w.quantity, sold = s.sold + w.quantity
       FROM unnest($1::text[], $2::int[]) AS w(sku, quantity)
       WHERE s.sku = w.sku`,
      [skus, [...wanted.values()]],
    )
    return { short: [] }
  } catch (error) {
    if (error.code !== CHECK_VIOLATION) throw error
  }
  const { rows } = await pool.query('SELECT sku, available FROM stock WHERE sku = ANY($1) ORDER BY sku', [
    skus,
  ])
  return { short: rows.filter((row) => row.available < wanted.get(row.sku)) }
}

export async function releaseStock(wanted) {
  await pool.query(
    `UPDATE stock s SET available = s.available + w.quantity, sold = s.sold - w.quantity
     FROM unnest($1::text[], $2::int[]) AS w(sku, quantity)
     WHERE s.sku = w.sku`,
    [[...wanted.keys()], [...wanted.values()]],
  )
}

export async function readStock(sku) {
  const { rows } = await pool.query('SELECT sku, available, sold FROM stock WHERE sku = $1', [sku])
  return rows[0]
}

export async function setStock(sku, available) {
  const { rows } = await pool.query(
    'UPDATE stock SET available = $2, sold = 0 WHERE sku = $1 RETURNING sku, available, sold',
    [sku, available],
  )
  return rows[0]
}

export function close() {
  return pool.end()
}
