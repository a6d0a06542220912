/**
 * Resetting a sandbox's dependencies (a warm session's next iteration), against real servers started as
 * vigil starts them for users: what was written on the candidate's database or broker is gone after its
 * reset, what the structure holds (tables, the candidate's migrations, streams, queues) is there again, the
 * baseline's side is untouched by the candidate's reset, and the address never changes. A server binary
 * that is missing skips its case with the Debian package to install.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Channel } from 'amqplib'
import type { Redis } from 'ioredis'
import type { NatsConnection } from 'nats'
import pg from 'pg'
import { patchAdding } from './migration-patch.js'
import { query } from './pg-query.js'
import { afterAll, describe, expect, it } from 'vitest'
import { postgresSettings } from '../../../engine/clients/database/settings.js'
import { findBinary } from '../../../engine/dependencies/server.js'
import { findPostgres } from '../../../engine/dependencies/postgres/binaries.js'
import { startSandboxes, type SandboxSession } from '../../../engine/sandboxes/index.js'
import type { DependencyEndpoint } from '../../../engine/api/dependency.js'
import { NODE_SERVER, removeDir, tempDir, writeConfig } from '../sandboxes/helpers.js'

const dirs: string[] = []
afterAll(() => dirs.forEach(removeDir))

/** A folder with the files and a config of one service using `dep`. */
function project(dep: string, files: Record<string, string> = {}): { dir: string; yaml: string } {
  const dir = tempDir()
  dirs.push(dir)
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    writeFileSync(path.join(dir, file), text)
  }
  const yaml = `
sandbox:
  provider: process
  dependencies:
    dep: ${dep}
  services:
    app:
      command: ${NODE_SERVER}
      env: { NAME: app, DEP_URL: "{{deps.dep.url}}" }
      ready: { http: /health, timeout: 20s }
`
  return { dir, yaml }
}

function start(
  { dir, yaml }: { dir: string; yaml: string },
  options: { patch?: string } = {},
): Promise<SandboxSession> {
  return startSandboxes({
    loaded: writeConfig(dir, yaml),
    signal: new AbortController().signal,
    log: () => {},
    runId: `reset-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    cwd: dir,
    ...options,
  })
}

/** Resets the candidate's dependencies only, and checks the address did not move. */
async function resetCandidate(session: SandboxSession): Promise<string> {
  const before = session.candidate.deps!.dep!
  const done = await session.candidate.resetDependencies!(AbortSignal.timeout(60_000))
  const after = session.candidate.deps!.dep!
  expect(after.url).toBe(before.url)
  expect(Object.keys(done)).toEqual(['dep'])
  return done.dep!
}

interface BrokerCase {
  name: string
  dep: string
  needs?: { binary: string; pkg: string }
  timeoutMs?: number
  /** Leaves something on the endpoint's broker. */
  write(endpoint: DependencyEndpoint): Promise<void>
  /** How many of the things `write` left are still there. */
  count(endpoint: DependencyEndpoint): Promise<number>
}

const BROKERS: BrokerCase[] = [
  {
    name: 'nats (JetStream streams purged, the stream kept)',
    dep: '{ kind: nats }',
    needs: { binary: 'nats-server', pkg: 'nats-server' },
    async write(endpoint) {
      await withNats(endpoint, async (nc) => {
        const jsm = await nc.jetstreamManager()
        await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] })
        await nc.jetstream().publish('orders.created', new TextEncoder().encode('{"id":1}'))
      })
    },
    count: (endpoint) =>
      withNats(endpoint, async (nc) => {
        const jsm = await nc.jetstreamManager()
        return (await jsm.streams.info('ORDERS')).state.messages
      }),
  },
  {
    name: 'redis (keys and streams flushed)',
    dep: '{ kind: redis }',
    needs: { binary: 'redis-server', pkg: 'redis-server' },
    async write(endpoint) {
      await withRedis(endpoint, async (r) => {
        await r.set('order:1', 'paid')
        await r.xadd('orders', '*', 'id', '1')
      })
    },
    count: (endpoint) => withRedis(endpoint, (r) => r.dbsize()),
  },
  {
    name: 'mqtt, embedded aedes (retained messages cleared)',
    dep: '{ kind: mqtt }',
    write: (endpoint) => retain(endpoint, 'shop/status', 'open'),
    count: retainedCount,
  },
  {
    name: 'mqtt, mosquitto (retained messages cleared)',
    dep: '{ kind: mqtt, server: mosquitto }',
    needs: { binary: 'mosquitto', pkg: 'mosquitto' },
    write: (endpoint) => retain(endpoint, 'shop/status', 'open'),
    count: retainedCount,
  },
  {
    name: 'rabbitmq (queues purged, the queue kept)',
    dep: '{ kind: rabbitmq }',
    needs: { binary: 'rabbitmq-server', pkg: 'rabbitmq-server' },
    timeoutMs: 180_000,
    async write(endpoint) {
      await withAmqp(endpoint, async (ch) => {
        await ch.assertQueue('orders', { durable: false })
        ch.sendToQueue('orders', Buffer.from('{"id":1}'))
        ch.sendToQueue('orders', Buffer.from('{"id":2}'))
        await ch.checkQueue('orders')
      })
    },
    count: (endpoint) =>
      withAmqp(endpoint, async (ch) => {
        // Publishes reach the queue asynchronously: the count settles within a moment.
        await new Promise((resolve) => setTimeout(resolve, 100))
        return (await ch.checkQueue('orders')).messageCount
      }),
  },
]

describe.each(BROKERS)('$name', (c) => {
  const missing = c.needs && !findBinary(c.needs.binary)
  const title = missing
    ? `skipped: ${c.needs!.binary} is not installed (apt-get install ${c.needs!.pkg})`
    : "a reset empties the candidate's broker and leaves the baseline's"
  it.skipIf(missing)(title, { timeout: c.timeoutMs ?? 60_000 }, async () => {
    const session = await start(project(c.dep))
    try {
      const cand = session.candidate.deps!.dep!
      const base = session.baseline!.deps!.dep!
      await c.write(cand)
      await c.write(base)
      expect(await c.count(cand)).toBeGreaterThan(0)
      const done = await resetCandidate(session)
      expect(done).not.toMatch(/^no |nothing/)
      expect(await c.count(cand)).toBe(0)
      expect(await c.count(base)).toBeGreaterThan(0)
      // Nothing left: a second reset has nothing to empty.
      expect(await resetCandidate(session)).toMatch(/^no |nothing/)
    } finally {
      await session.stop()
    }
  })
})

describe('mqtt, embedded aedes, persistent sessions', () => {
  it('a reset drops what was queued for a disconnected persistent session, and keeps its subscription', async () => {
    const session = await start(project('{ kind: mqtt }'))
    const { connectAsync } = await import('mqtt')
    const url = session.candidate.deps!.dep!.url
    const clientId = `shipping-${process.pid}`
    const heard: string[] = []
    const listen = async () => {
      const client = await connectAsync(url, { clientId, clean: false, reconnectPeriod: 0 })
      client.on('message', (_topic, payload) => heard.push(payload.toString()))
      return client
    }
    const publish = async (payload: string) => {
      const client = await connectAsync(url, { reconnectPeriod: 0 })
      await client.publishAsync('orders/created', payload, { qos: 1 })
      await client.endAsync()
    }
    try {
      const away = await listen()
      await away.subscribeAsync('orders/#', { qos: 1 })
      await away.endAsync()
      await publish('from an earlier iteration')
      expect(await resetCandidate(session)).toBe(
        '1 message(s) queued for disconnected persistent sessions dropped',
      )
      const back = await listen()
      try {
        await publish('from this iteration')
        await waitUntil(() => heard.length > 0)
        expect(heard).toEqual(['from this iteration'])
      } finally {
        await back.endAsync()
      }
    } finally {
      await session.stop()
    }
  })
})

async function waitUntil(condition: () => boolean): Promise<void> {
  for (const until = Date.now() + 10_000; !condition();) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function machinePostgres(): boolean {
  try {
    return findPostgres({ prefer: 'machine' }).source === 'machine'
  } catch {
    return false
  }
}

describe('postgres', () => {
  const prefer = machinePostgres() ? 'machine' : 'embedded'
  it(
    'a reset gives the candidate a fresh branch of the template, with its migrations as they are now',
    { timeout: 120_000 },
    async () => {
      const proj = project(
        `{ kind: postgres, prefer: ${prefer}, migrations: db/migrations, seed: db/seed.sql }`,
        {
          'db/migrations/001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);\n',
          'db/seed.sql': "INSERT INTO items (name) VALUES ('tea'), ('coffee');\n",
        },
      )
      const patch = patchAdding(
        proj.dir,
        '002_sku.sql',
        "ALTER TABLE items ADD COLUMN sku text NOT NULL DEFAULT 'x';",
      )
      const session = await start(proj, { patch })
      // A service's pool, connected before the reset: it reconnects to the new branch.
      const pool = new pg.Pool({ connectionString: session.candidate.deps!.dep!.url, max: 1 })
      pool.on('error', () => undefined)
      try {
        const cand = () => session.candidate.deps!.dep!
        const base = session.baseline!.deps!.dep!
        await query(cand().url, "INSERT INTO items (name, sku) VALUES ('mate', 'm')")
        await query(base.url, "INSERT INTO items (name) VALUES ('cocoa')")
        expect(await pool.query('SELECT count(*)::int AS n FROM items').then((r) => r.rows)).toEqual([
          { n: 3 },
        ])

        // The candidate gains a migration between two iterations.
        const root = postgresSettings(cand())!.roots.candidate
        writeFileSync(
          path.join(root, 'db/migrations/003_price.sql'),
          'ALTER TABLE items ADD COLUMN price int NOT NULL DEFAULT 0;\n',
        )
        const done = await resetCandidate(session)
        expect(done).toMatch(
          /^database \S+_candidate re-branched from vigil_tpl_[a-f0-9]{20}, 2 new migration\(s\) applied$/,
        )
        expect(postgresSettings(cand())!.applied).toEqual(['002_sku.sql', '003_price.sql'])
        // The rows written are gone; the seed and both new columns are there.
        expect(await query(cand().url, 'SELECT name, sku, price FROM items ORDER BY id')).toEqual([
          { name: 'tea', sku: 'x', price: 0 },
          { name: 'coffee', sku: 'x', price: 0 },
        ])
        // The baseline's branch is not the candidate's to reset.
        expect(await query(base.url, 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 3 }])
        // The pool's old session was ended with the old branch; its next query gets a new one.
        const again = await pool
          .query('SELECT count(*)::int AS n FROM items')
          .catch(() => pool.query('SELECT count(*)::int AS n FROM items'))
        expect(again.rows).toEqual([{ n: 2 }])

        // The next reset swaps in the branch made ahead after this one: the same migrations, none of the rows.
        await query(cand().url, "INSERT INTO items (name, sku) VALUES ('yerba', 'y')")
        expect(await resetCandidate(session)).toMatch(
          /^database \S+_candidate swapped for a branch of vigil_tpl_[a-f0-9]{20} made ahead, 2 new migration\(s\) applied$/,
        )
        expect(await query(cand().url, 'SELECT name, price FROM items ORDER BY id')).toEqual([
          { name: 'tea', price: 0 },
          { name: 'coffee', price: 0 },
        ])
        const reconnected = await pool
          .query('SELECT count(*)::int AS n FROM items')
          .catch(() => pool.query('SELECT count(*)::int AS n FROM items'))
        expect(reconnected.rows).toEqual([{ n: 2 }])

        // A migration changed once the branch ahead was made: it is not used, the reset re-branches.
        await spareMade(cand(), 'price')
        writeFileSync(
          path.join(root, 'db/migrations/003_price.sql'),
          'ALTER TABLE items ADD COLUMN price int NOT NULL DEFAULT 7;\n',
        )
        await query(cand().url, "INSERT INTO items (name, sku) VALUES ('rooibos', 'r')")
        expect(await resetCandidate(session)).toMatch(
          / re-branched from vigil_tpl_[a-f0-9]{20}, 2 new migration/,
        )
        expect(await query(cand().url, 'SELECT name, price FROM items ORDER BY id')).toEqual([
          { name: 'tea', price: 7 },
          { name: 'coffee', price: 7 },
        ])
        // And the one made after that holds the migration as it is now.
        await query(cand().url, "INSERT INTO items (name, sku) VALUES ('sencha', 's')")
        expect(await resetCandidate(session)).toMatch(
          / swapped for a branch of vigil_tpl_[a-f0-9]{20} made ahead/,
        )
        expect(await query(cand().url, 'SELECT name, price FROM items ORDER BY id')).toEqual([
          { name: 'tea', price: 7 },
          { name: 'coffee', price: 7 },
        ])
        expect(await query(base.url, 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 3 }])
      } finally {
        await pool.end().catch(() => undefined)
        await session.stop()
      }
    },
  )

  it(
    'what a reset leaves for the background (two branches made ahead, the one swapped out dropped) waits for backgroundAfter; a stop does not',
    { timeout: 120_000 },
    async () => {
      const proj = project(`{ kind: postgres, prefer: ${prefer}, migrations: db/migrations }`, {
        'db/migrations/001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);\n',
      })
      const session = await start(proj)
      try {
        const cand = () => session.candidate.deps!.dep!
        const settings = postgresSettings(cand())!
        const databases = async (): Promise<string[]> => {
          const url = new URL(settings.adminUrl)
          url.pathname = '/postgres'
          const rows = await query<{ datname: string }>(
            url.toString(),
            `SELECT datname FROM pg_database WHERE datname LIKE '${settings.database}\\_%' ORDER BY datname`,
          )
          return rows.map((r) => r.datname.slice(settings.database.length))
        }
        const hold = (): { after: Promise<void>; release: () => void } => {
          let release = (): void => undefined
          const after = new Promise<void>((resolve) => (release = resolve))
          return { after, release }
        }
        const reset = (after: Promise<void>) =>
          session.candidate.resetDependencies!(AbortSignal.timeout(60_000), { backgroundAfter: after })

        /** Waits until the side's databases besides the live one are `names`. */
        const settle = async (names: string[]): Promise<void> => {
          for (const until = Date.now() + 30_000; Date.now() < until;) {
            if ((await databases()).join() === names.join()) break
            await new Promise((resolve) => setTimeout(resolve, 50))
          }
          expect(await databases()).toEqual(names)
        }

        // The first reset re-branches; the branches for the next two are made only once the hold is released.
        const first = hold()
        expect((await reset(first.after)).dep).toMatch(/ re-branched from /)
        await new Promise((resolve) => setTimeout(resolve, 1_000))
        expect(await databases()).toEqual([])
        first.release()
        await spareMade(cand(), 'name')
        await settle(['_s1', '_s2'])

        // The next swaps the older in; the branch swapped out is dropped, and the next made, after the hold
        // only: two stay ahead, so a reset asked for as the hold is released does not wait for one.
        const second = hold()
        expect((await reset(second.after)).dep).toMatch(/ swapped for a branch of \S+ made ahead$/)
        await new Promise((resolve) => setTimeout(resolve, 1_000))
        expect(await databases()).toEqual(['_o2', '_s2'])
        second.release()
        await settle(['_s2', '_s3'])

        // The one after swaps the second in at once, its hold still held.
        expect((await reset(new Promise<void>(() => undefined))).dep).toMatch(/ made ahead$/)
        expect(await databases()).toEqual(['_o3', '_s3'])

        // The server ends the administrator's session kept for swaps: it is let go (not an uncaught error),
        // and the next swap opens another.
        const admin = new URL(settings.adminUrl)
        admin.pathname = '/postgres'
        const ended = await query<{ n: number }>(
          admin.toString(),
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
            WHERE datname = 'postgres' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        )
        expect(ended).toEqual([{ n: 1 }])
        await new Promise((resolve) => setTimeout(resolve, 200))
        expect((await reset(new Promise<void>(() => undefined))).dep).toMatch(/ swapped for .* made ahead$/)

        // A hold never released does not keep the stop waiting.
      } finally {
        await session.stop()
      }
      expect(session.candidate.processes?.().filter((p) => p.running) ?? []).toEqual([])
    },
  )
})

/**
 * Resolves once the branch a reset makes ahead (named after the side's database) has `column` in items:
 * its migrations are applied, read from the files as they were then.
 */
async function spareMade(endpoint: DependencyEndpoint, column: string): Promise<void> {
  const settings = postgresSettings(endpoint)!
  const at = (db: string): string => {
    const url = new URL(settings.adminUrl)
    url.pathname = `/${db}`
    return url.toString()
  }
  for (const until = Date.now() + 60_000; Date.now() < until;) {
    const spares = await query<{ datname: string }>(
      at('postgres'),
      `SELECT datname FROM pg_database WHERE datname LIKE '${settings.database}\\_s%'`,
    )
    for (const { datname } of spares) {
      const found = await query(
        at(datname),
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = '${column}'`,
      ).catch(() => [])
      if (found.length) return
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('no branch was made ahead')
}

async function withNats<T>(
  endpoint: DependencyEndpoint,
  work: (nc: NatsConnection) => Promise<T>,
): Promise<T> {
  const { connect } = await import('nats')
  const nc = await connect({ servers: endpoint.url, reconnect: false, timeout: 5_000 })
  try {
    return await work(nc)
  } finally {
    await nc.close()
  }
}

async function withRedis<T>(endpoint: DependencyEndpoint, work: (r: Redis) => Promise<T>): Promise<T> {
  const { Redis } = await import('ioredis')
  const r = new Redis(endpoint.url, { maxRetriesPerRequest: 1 })
  try {
    return await work(r)
  } finally {
    r.disconnect()
  }
}

async function withAmqp<T>(endpoint: DependencyEndpoint, work: (ch: Channel) => Promise<T>): Promise<T> {
  const amqp = await import('amqplib')
  const connection = await amqp.connect(endpoint.url, { timeout: 5_000 })
  try {
    return await work(await connection.createChannel())
  } finally {
    await connection.close()
  }
}

async function retain(endpoint: DependencyEndpoint, topic: string, payload: string): Promise<void> {
  const { connectAsync } = await import('mqtt')
  const client = await connectAsync(endpoint.url, { reconnectPeriod: 0, connectTimeout: 5_000 })
  try {
    await client.publishAsync(topic, payload, { qos: 1, retain: true })
  } finally {
    await client.endAsync()
  }
}

/** Retained messages a new subscriber to everything receives. */
async function retainedCount(endpoint: DependencyEndpoint): Promise<number> {
  const { connectAsync } = await import('mqtt')
  const client = await connectAsync(endpoint.url, { reconnectPeriod: 0, connectTimeout: 5_000 })
  try {
    let n = 0
    client.on('message', (_topic, payload, packet) => {
      if (packet.retain && payload.length > 0) n++
    })
    await client.subscribeAsync('#', { qos: 1 })
    await new Promise((resolve) => setTimeout(resolve, 400))
    return n
  } finally {
    await client.endAsync()
  }
}
