/**
 * Stopped clusters given back by earlier runs, so that a warm start renames a data folder into place
 * instead of copying the cached cluster (a copy and a `chown -R` of ~40 MB and a thousand files, measured
 * at seconds on a busy machine, where a rename is a few milliseconds).
 *
 * Why a pool of private clusters rather than one server shared by concurrent runs: each run keeps a
 * server, a port and a data folder of its own, so runs cannot see each other's databases, roles or
 * settings, and a run killed mid-way leaves only its own folder (tracked for `vigil sandboxes gc`) — never
 * a half-used shared cluster. Hard links or reflinks of the cached cluster are not safe: PostgreSQL writes
 * its files in place, so a linked file would change the cache under every other copy.
 *
 * A cluster is given back only when it is as pristine as the cached one on everything a run can change
 * outside its own databases (see `resetForPool`), was shut down cleanly (no `postmaster.pid` left), and
 * has been used fewer than `MAX_USES` times. It lives in `<temp>/vigil-postgres-pool-<uid>/<key>/`, on the
 * file system of the runs' data folders so that claiming one is an atomic rename: two runs never get the
 * same cluster. The pool is a cache: deleting it at any time only costs the next start a copy.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import path from 'node:path'
import type pg from 'pg'
import { dropDatabaseSql, quoteIdent } from '../../clients/database/admin.js'
import { ensurePrivateDir } from '../../processes/run-state.js'
import { tempRootFor } from '../server.js'
import type { OsUser } from './cluster.js'
import { templatesToKeep } from './template-cache.js'

/** Clusters kept ready per PostgreSQL build: one per concurrent run on a busy machine, then copies. */
const MAX_POOLED = 4
/** A cluster is retired after this many runs, so what PostgreSQL accumulates (WAL, statistics) stays small. */
const MAX_USES = 25

/** The pool of one cached cluster (its key, and its password: a rebuilt cache makes a new pool). */
export function poolDir(key: string, user: OsUser | undefined): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user'
  return path.join(tempRootFor(user), `vigil-postgres-pool-${uid}`, key)
}

/**
 * Moves a pooled cluster to `target` (which must not exist). Returns how many runs used it before, or
 * undefined when the pool has none (or its folder is not a private one of this user).
 */
export function claimPooled(pool: string, target: string): number | undefined {
  let names: string[]
  try {
    ensurePrivateDir(path.dirname(pool))
    names = readdirSync(pool)
  } catch {
    return undefined
  }
  for (const name of names) {
    const uses = /^(\d+)-[a-f0-9]+$/.exec(name)?.[1]
    if (uses === undefined) continue
    try {
      renameSync(path.join(pool, name), target)
      return Number(uses)
    } catch {
      // Another run claimed it first.
    }
  }
  return undefined
}

/**
 * Drops every database but PostgreSQL's own and the newest kept templates (template-cache.ts), and checks
 * nothing else outlives the run; true when the cluster may be given back. Run on the live server, before
 * its shutdown.
 */
export async function resetForPool(admin: pg.Client, versionNum: number): Promise<boolean> {
  const { rows } = await admin.query<{ datname: string; datistemplate: boolean; oid: string }>(
    `SELECT datname, datistemplate, oid FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')`,
  )
  const keep = templatesToKeep(rows)
  for (const { datname, datistemplate } of rows) {
    if (keep.has(datname)) continue
    // A template cannot be dropped until it is an ordinary database again.
    if (datistemplate) await admin.query(`ALTER DATABASE ${quoteIdent(datname)} WITH IS_TEMPLATE false`)
    await admin.query(dropDatabaseSql(datname, versionNum))
  }
  // Roles, tablespaces and ALTER SYSTEM settings belong to the cluster, not a database; objects in the
  // `postgres` database would be seen by the next run. Any of them and the cluster is not reused.
  const { rows: left } = await admin.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')
              AND datname <> ALL($1::text[]))
          + (SELECT count(*) FROM pg_roles WHERE rolname <> 'postgres' AND rolname !~ '^pg_')
          + (SELECT count(*) FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global'))
          + (SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf')
          + (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
                AND n.nspname NOT LIKE 'pg_temp%')
          + (SELECT count(*) FROM pg_namespace WHERE nspname NOT IN ('public', 'pg_catalog', 'information_schema')
              AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%')
          + (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql') AS n`,
    [[...keep]],
  )
  return Number(left[0]?.n ?? 1) === 0
}

/**
 * Gives the stopped cluster in `data` back to the pool when it shut down cleanly and has uses left;
 * true when it was moved (the caller then only removes the empty run folder).
 */
export function givePooled(pool: string, data: string, uses: number): boolean {
  if (uses + 1 >= MAX_USES) return false
  // PostgreSQL removes its lock file at a clean shutdown; one left means it was killed mid-way.
  if (!existsSync(path.join(data, 'PG_VERSION')) || existsSync(path.join(data, 'postmaster.pid')))
    return false
  try {
    ensurePrivateDir(path.dirname(pool))
    ensurePrivateDir(pool)
    if (readdirSync(pool).length >= MAX_POOLED) return false
    renameSync(data, path.join(pool, `${uses + 1}-${randomBytes(6).toString('hex')}`))
    return true
  } catch {
    return false
  }
}

/** Removes the pools of earlier generations of the same cached cluster (the cache was rebuilt). */
export function clearOtherPools(pool: string): void {
  const root = path.dirname(pool)
  const key = path.basename(pool).replace(/-[a-f0-9]+$/, '')
  let names: string[]
  try {
    names = readdirSync(root)
  } catch {
    return
  }
  for (const name of names) {
    if (name !== path.basename(pool) && name.startsWith(`${key}-`))
      rmSync(path.join(root, name), { recursive: true, force: true })
  }
}

/** Empties a pool (a test or a benchmark that wants the next start to copy). */
export function clearPool(pool: string): void {
  rmSync(pool, { recursive: true, force: true })
}
