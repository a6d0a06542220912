/**
 * Databases of a run: the template (the baseline's migrations and seed, applied once) and a branch of it
 * per sandbox (`CREATE DATABASE … TEMPLATE …`, a file copy, not a replay of the migrations).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { InfrastructureError } from '../../errors.js'
import {
  applyCommand,
  applySql,
  describeFailure,
  type MigrationFailure,
  type MigrationFile,
  type MigrationSet,
} from '../../clients/database/migrations.js'
import type pg from 'pg'
import { dropDatabaseSql } from '../../clients/database/admin.js'
import { adminClient, databaseUrl, quoteIdent, type PostgresInstance } from './instance.js'

/**
 * Creates `name` as a copy of `template` (FILE_COPY: a branch is a copy of files, not of WAL records), in the
 * instance's branch tablespace when it has one (memory.ts).
 */
export async function createBranch(
  instance: PostgresInstance,
  template: string,
  name: string,
): Promise<void> {
  const admin = await adminClient(instance, 'postgres')
  try {
    const strategy = instance.versionNum >= 150000 ? ' STRATEGY = FILE_COPY' : ''
    const tablespace = await instance.branches?.ensure(admin)
    const space = tablespace ? ` TABLESPACE ${quoteIdent(tablespace)}` : ''
    await admin.query(
      `CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}${space}${strategy}`,
    )
  } finally {
    await admin.end().catch(() => undefined)
  }
}

export async function createEmpty(instance: PostgresInstance, name: string): Promise<void> {
  const admin = await adminClient(instance, 'postgres')
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`)
  } finally {
    await admin.end().catch(() => undefined)
  }
}

/** Drops a database, ending its sessions (PostgreSQL 13+). Never throws. */
export async function dropDatabase(instance: PostgresInstance, name: string): Promise<void> {
  // Best effort: a private server's databases go with its data folder anyway.
  await drop(instance, name).catch(() => undefined)
}

async function drop(instance: PostgresInstance, name: string): Promise<void> {
  const admin = await adminClient(instance, 'postgres')
  try {
    await admin.query(dropDatabaseSql(name, instance.versionNum))
  } finally {
    await admin.end().catch(() => undefined)
  }
}

/**
 * Drops `name` and creates it again from `template`: a branch as it was when made, for a warm session's next
 * iteration. Its sessions are ended (PostgreSQL 13+). Throws when either step fails.
 */
export async function rebranch(instance: PostgresInstance, template: string, name: string): Promise<void> {
  await drop(instance, name)
  await createBranch(instance, template, name)
}

/**
 * Puts `spare` (a branch made ahead) in the place of `live`, which becomes `old`: no new session may open on
 * `live`, its sessions are ended and waited for, and the two are renamed. Milliseconds, where dropping and
 * copying again takes a checkpoint each. On `client` when given (an administrator's session kept open for
 * swaps: connecting takes longer than the swap), else on a session of its own. Throws when a step fails.
 */
export async function swapBranch(
  instance: PostgresInstance,
  live: string,
  spare: string,
  old: string,
  client?: pg.Client,
): Promise<void> {
  const admin = client ?? (await adminClient(instance, 'postgres'))
  try {
    await admin.query(`ALTER DATABASE ${quoteIdent(live)} ALLOW_CONNECTIONS false`)
    await endSessions(admin, live)
    await admin.query(`ALTER DATABASE ${quoteIdent(live)} RENAME TO ${quoteIdent(old)}`)
    await admin.query(`ALTER DATABASE ${quoteIdent(spare)} RENAME TO ${quoteIdent(live)}`)
  } finally {
    if (!client) await admin.end().catch(() => undefined)
  }
}

/** Applies `files` of `set` (or its command) to `database`; returns the first failure. */
export async function migrate(
  instance: PostgresInstance,
  database: string,
  set: MigrationSet,
  files: readonly MigrationFile[],
  root: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<MigrationFailure | undefined> {
  if (files.length === 0) return undefined
  if (set.command) return applyCommand(set.command, root, databaseUrl(instance, database), timeoutMs, signal)
  const client = await adminClient(instance, database)
  try {
    return await applySql(client, files)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** A seed file (relative to `root`), read; an infrastructure error when it cannot be. */
export function readSeed(root: string, seed: string): SeedFile {
  const file = path.resolve(root, seed)
  try {
    return { name: path.basename(file), file, text: readFileSync(file, 'utf8') }
  } catch (error) {
    throw new InfrastructureError(`seed ${seed}: cannot read it (${(error as Error).message})`, [], {
      code: 'VIGIL_DEPENDENCY_START',
      cause: error,
    })
  }
}

export interface SeedFile {
  name: string
  file: string
  text: string
}

/** The template: every migration of the baseline's set, then its seed. A failure is the baseline's problem. */
export async function buildTemplate(
  instance: PostgresInstance,
  template: string,
  set: MigrationSet,
  seed: SeedFile | undefined,
  root: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  await createEmpty(instance, template)
  const failed = await migrate(instance, template, set, set.files, root, timeoutMs, signal)
  if (failed) {
    throw new InfrastructureError(
      `the baseline's migrations do not apply to an empty database: ${describeFailure(failed, root)}`,
      failed.output ?? [],
      { code: 'VIGIL_DEPENDENCY_START' },
    )
  }
  if (!seed) return
  const client = await adminClient(instance, template)
  try {
    const seedFailed = await applySql(client, [{ name: seed.name, file: seed.file, up: seed.text }])
    if (seedFailed) {
      throw new InfrastructureError(`the seed does not apply: ${describeFailure(seedFailed, root)}`, [], {
        code: 'VIGIL_DEPENDENCY_START',
      })
    }
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Longest wait for ended sessions to go before the rename, which then waits for them itself (seconds). */
const END_WAIT_MS = 2_000

/**
 * Ends the sessions on `database` and waits until they have gone. A rename would wait for them too, but it
 * looks again only every 100 ms (as does `pg_terminate_backend` given a timeout): most of a swap's time,
 * where an ended session goes in a millisecond or two.
 */
async function endSessions(admin: pg.Client, database: string): Promise<void> {
  const others = 'FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()'
  await admin.query(`SELECT pg_terminate_backend(pid) ${others}`, [database])
  const until = Date.now() + END_WAIT_MS
  while (Date.now() < until) {
    const left = await admin.query<{ n: number }>(`SELECT count(*)::int AS n ${others}`, [database])
    if (left.rows[0]!.n === 0) return
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
