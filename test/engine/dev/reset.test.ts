/**
 * A warm session empties the sandboxes' databases and brokers between iterations, on a git copy of the
 * sample shop with its real PostgreSQL and MQTT broker: the orders an iteration's checks create are gone
 * before the next iteration's checks run, on both sides, and the verdict names what was reset. An iteration
 * after one that ran no check has nothing to reset, unless a migration was written meanwhile: the candidate's
 * database is then re-branched with it applied.
 */
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DevSession } from '../../../engine/dev/session.js'
import { renderCompact } from '../../../reporters/index.js'
import { gitShop, type GitShop } from './warm-shop.js'

let shop: GitShop
let session: DevSession
const logged: string[] = []

beforeAll(async () => {
  shop = await gitShop()
  session = new DevSession({ cwd: shop.root, planNames: ['checkout-flow'], log: (l) => logged.push(l) })
}, 60_000)
afterAll(async () => {
  await session?.stop()
  await shop?.remove()
}, 60_000)

async function sql<T extends pg.QueryResultRow>(side: 'candidate' | 'baseline', text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: session.dependencies()[side].db!.url })
  await client.connect()
  try {
    return (await client.query<T>(text)).rows
  } finally {
    await client.end()
  }
}

/** The candidate's branches made ahead of its next reset (named after its database), and being made. */
async function branchesAhead(): Promise<string[]> {
  const url = new URL(session.dependencies().candidate.db!.url)
  const database = url.pathname.slice(1)
  url.pathname = '/postgres'
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    const made = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE $1 || '\\_s%'",
      [database],
    )
    const making = await client.query<{ query: string }>(
      "SELECT query FROM pg_stat_activity WHERE query LIKE 'CREATE DATABASE %' || $1 || '\\_s%'",
      [database],
    )
    return [...made.rows.map((r) => r.datname), ...making.rows.map((r) => `making: ${r.query}`)]
  } finally {
    await client.end()
  }
}

/** Alice's orders in one side's database (the seed has none of hers). */
async function aliceOrders(side: 'candidate' | 'baseline'): Promise<number> {
  return (await sql<{ n: number }>(side, "SELECT count(*)::int AS n FROM orders WHERE owner = 'alice'"))[0]!.n
}

describe('a warm session between iterations', () => {
  it('re-branches the databases and empties the brokers, so no iteration sees an earlier one’s orders', async () => {
    const first = await session.iterate()
    expect(first.errors).toEqual([])
    expect(first.status).toBe('pass')
    expect(first.session?.reset).toEqual([])
    const made = await aliceOrders('candidate')
    expect(made).toBeGreaterThan(0)
    // The flow runs on the candidate; an order written on the baseline's side goes the same way.
    await sql(
      'baseline',
      "INSERT INTO orders (id, owner, status, total_cents, currency, created_at) VALUES ('ord_probe', 'alice', 'confirmed', 1, 'EUR', now())",
    )
    expect(await aliceOrders('baseline')).toBe(1)
    const url = session.dependencies().candidate.db!.url

    // What the reset leaves for the background (the next branch made ahead) waits for the iteration's end:
    // none is made, nor being made, while its check runs (looked at as it starts and at its first step).
    const during: Array<Promise<string[]>> = []
    const look = () => void (during.length < 2 && during.push(branchesAhead()))
    const second = await session.iterate({ reporter: { onCheckStart: look, onCheckProgress: look } })
    expect(await Promise.all(during)).toEqual([[], []])
    // Then two are made ahead, one after the other, and none is left being made: in memory both may be made
    // before the first look, so the look waits for that, not for a moment with one.
    const spare = expect.stringMatching(/_s\d+$/)
    await expect.poll(branchesAhead, { timeout: 30_000 }).toEqual([spare, spare])
    expect(second.status).toBe('pass')
    expect(second.session?.reset).toEqual(['baseline:bus', 'baseline:db', 'candidate:bus', 'candidate:db'])
    expect(renderCompact(second)).toMatch(/^#2 reset bus, db/m)
    // The second iteration's checks made as many orders as the first's: the first's were gone.
    expect(await aliceOrders('candidate')).toBe(made)
    expect(await aliceOrders('baseline')).toBe(0)
    // Same database, same address: the services were not restarted for it.
    expect(session.dependencies().candidate.db!.url).toBe(url)
    expect(second.session?.restarted).toEqual([])

    // The third starts from the branches made ahead after the second reset, swapped in: the same guarantee,
    // and the running services (not restarted) reconnect to them.
    await sql(
      'baseline',
      "INSERT INTO orders (id, owner, status, total_cents, currency, created_at) VALUES ('ord_probe', 'alice', 'confirmed', 1, 'EUR', now())",
    )
    logged.length = 0
    const third = await session.iterate()
    expect(third.status).toBe('pass')
    expect(third.session?.reset).toEqual(['baseline:bus', 'baseline:db', 'candidate:bus', 'candidate:db'])
    expect(await aliceOrders('candidate')).toBe(made)
    expect(await aliceOrders('baseline')).toBe(0)
    expect(session.dependencies().candidate.db!.url).toBe(url)
    expect(third.session?.restarted).toEqual([])
    for (const side of ['candidate', 'baseline'])
      expect(logged).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            new RegExp(
              `^${side} sandbox, dependency db: reset \\(database \\S+ swapped for a branch of \\S+ made ahead\\)$`,
            ),
          ),
        ]),
      )
  }, 240_000)

  it('resets nothing after an iteration that ran no check', async () => {
    const quiet = new DevSession({ cwd: shop.root, planNames: ['no-such-plan'] })
    try {
      await quiet.iterate()
      const again = await quiet.iterate()
      expect(again.session?.reset).toEqual([])
    } finally {
      await quiet.stop()
    }
  }, 180_000)

  it('re-branches the candidate’s database when a migration is written, though no check wrote to it', async () => {
    const quiet = new DevSession({ cwd: shop.root, planNames: ['no-such-plan'] })
    const migration = path.join(shop.root, 'db/migrations/003_note.sql')
    const columns = async () => {
      const client = new pg.Client({ connectionString: quiet.dependencies().candidate.db!.url })
      await client.connect()
      try {
        const { rows } = await client.query<{ c: string }>(
          "SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'orders'",
        )
        return rows.map((r) => r.c)
      } finally {
        await client.end()
      }
    }
    try {
      await quiet.iterate()
      expect(await columns()).not.toContain('note')
      await writeFile(migration, 'ALTER TABLE orders ADD COLUMN note text;\n')
      const migrated = await quiet.iterate()
      expect(migrated.session?.reset).toEqual(expect.arrayContaining(['candidate:db']))
      expect(await columns()).toContain('note')
      // Read once: the next iteration, with nothing written and no new file, resets nothing.
      const again = await quiet.iterate()
      expect(again.session?.reset).toEqual([])
    } finally {
      await quiet.stop()
      await rm(migration, { force: true })
    }
  }, 180_000)
})
