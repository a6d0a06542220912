/**
 * A project's database migrations: where they are, in which layout, and applying them. Layouts are
 * recognised by their files — plain SQL files applied in name order (`001_init.sql`, an optional
 * `001_init.down.sql`), node-pg-migrate's SQL files (`-- Up Migration` / `-- Down Migration`), Prisma
 * migrate (`<name>/migration.sql`), and JavaScript runners (node-pg-migrate, Knex: a `knexfile.*`) run by
 * their own command — or named by a configured command. SQL is applied by vigil itself, one transaction
 * per file, statement by statement, so a failure names its file, line and statement.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import type { Client } from 'pg'
import { parseCommand } from '../../processes/argv.js'
import { runCommand } from '../../processes/command.js'
import { splitStatements, type SqlStatement } from './sql.js'

export type MigrationLayout = 'sql' | 'node-pg-migrate' | 'prisma' | 'knex' | 'command'

/** How a dependency names its migrations: a folder, or a folder and the commands that apply them. */
export interface MigrationsOptions {
  /** The folder, relative to the sandbox's source folder. */
  path: string
  /** A command applying every pending migration, run in the source folder with `DATABASE_URL` set. */
  command?: string
  /** A command reverting the newest migration (for `rollback: true` of the migration gate). */
  down?: string
}

export interface MigrationFile {
  /** The name that identifies it across builds (a file name, or Prisma's folder name). */
  name: string
  file: string
  /** Its up SQL; absent for a JavaScript migration a command applies. */
  up?: string
  down?: string
}

export interface MigrationSet {
  layout: MigrationLayout
  dir: string
  files: MigrationFile[]
  /** Applies every pending migration (layouts run by their own tool). */
  command?: string[]
  /** Reverts the newest one. */
  downCommand?: string[]
}

const SCRIPT = /\.(?:c|m)?[jt]s$/
const byName = (a: { name: string }, b: { name: string }): number =>
  a.name.localeCompare(b.name, 'en', { numeric: true })

/** The migrations under `root`; an absent folder is an empty set. */
export function findMigrations(root: string, options: MigrationsOptions): MigrationSet {
  const dir = path.resolve(root, options.path)
  const entries = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []
  const configured = options.command ? parseCommand(options.command) : undefined
  const down = options.down ? parseCommand(options.down) : undefined
  const withCommands = (set: MigrationSet): MigrationSet => ({
    ...set,
    ...(configured ? { layout: 'command' as const, command: configured } : {}),
    ...(down ? { downCommand: down } : {}),
  })
  const prisma = entries
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => {
      const downFile = path.join(dir, e.name, 'down.sql')
      return {
        name: e.name,
        file: path.join(dir, e.name, 'migration.sql'),
        up: readFileSync(path.join(dir, e.name, 'migration.sql'), 'utf8'),
        ...(existsSync(downFile) ? { down: readFileSync(downFile, 'utf8') } : {}),
      }
    })
  if (prisma.length > 0 || existsSync(path.join(dir, 'migration_lock.toml'))) {
    return withCommands({ layout: 'prisma', dir, files: prisma.sort(byName) })
  }
  const names = entries.filter((e) => e.isFile()).map((e) => e.name)
  const scripts = names.filter((n) => SCRIPT.test(n) && !n.endsWith('.d.ts'))
  if (scripts.length > 0) {
    const files = scripts.map((name) => ({ name, file: path.join(dir, name) })).sort(byName)
    const knex = [root, path.dirname(dir)].some((d) =>
      ['knexfile.js', 'knexfile.cjs', 'knexfile.mjs', 'knexfile.ts'].some((f) => existsSync(path.join(d, f))),
    )
    const relative = path.relative(root, dir) || '.'
    return withCommands(
      knex
        ? {
            layout: 'knex',
            dir,
            files,
            command: ['npx', 'knex', 'migrate:latest'],
            downCommand: ['npx', 'knex', 'migrate:down'],
          }
        : {
            layout: 'node-pg-migrate',
            dir,
            files,
            command: ['npx', 'node-pg-migrate', 'up', '-m', relative],
            downCommand: ['npx', 'node-pg-migrate', 'down', '-m', relative],
          },
    )
  }
  const sql = names.filter((n) => n.endsWith('.sql') && !n.endsWith('.down.sql'))
  let layout: MigrationLayout = 'sql'
  const files = sql
    .map((name): MigrationFile => {
      const file = path.join(dir, name)
      const text = readFileSync(file, 'utf8')
      const marked = /^\s*--\s*Up Migration\b/im.test(text)
      if (marked) {
        layout = 'node-pg-migrate'
        const [up, downPart] = text.split(/^\s*--\s*Down Migration\b.*$/im)
        return { name, file, up: up ?? '', ...(downPart?.trim() ? { down: downPart } : {}) }
      }
      const downName = name.replace(/(?:\.up)?\.sql$/, '.down.sql')
      const downFile = path.join(dir, downName)
      return {
        name: name.replace(/\.up\.sql$/, '.sql'),
        file,
        up: text,
        ...(existsSync(downFile) && statSync(downFile).isFile()
          ? { down: readFileSync(downFile, 'utf8') }
          : {}),
      }
    })
    .sort(byName)
  return withCommands({ layout, dir, files })
}

/** The migrations of `candidate` that `baseline` does not have (by name), in order. */
export function newMigrations(baseline: MigrationSet, candidate: MigrationSet): MigrationFile[] {
  const known = new Set(baseline.files.map((f) => f.name))
  return candidate.files.filter((f) => !known.has(f.name))
}

/** Why a migration did not apply: its file, the statement and its line, the database's error. */
export interface MigrationFailure {
  migration: string
  file: string
  line?: number
  statement?: string
  error: string
  /** The SQLSTATE, e.g. `23514` (a check constraint violated by existing rows). */
  code?: string
  detail?: string
  /** For a migration a command applied: the tail of its output. */
  output?: string[]
}

/** Watches statements as they apply, inside their transaction (the migration gate's lock and rewrite report). */
export interface StatementObserver {
  before(client: Client, statement: SqlStatement): Promise<void>
  after(client: Client, statement: SqlStatement, migration: MigrationFile, durationMs: number): Promise<void>
}

/**
 * Applies SQL migrations in order, each file in one transaction (a file with `CONCURRENTLY` outside one,
 * as PostgreSQL requires), statement by statement. Stops at the first failure and returns it.
 */
export async function applySql(
  client: Client,
  files: readonly MigrationFile[],
  options: { direction?: 'up' | 'down'; observer?: StatementObserver } = {},
): Promise<MigrationFailure | undefined> {
  for (const migration of files) {
    const text = options.direction === 'down' ? migration.down : migration.up
    if (text === undefined) {
      return {
        migration: migration.name,
        file: migration.file,
        error:
          options.direction === 'down'
            ? 'it has no down migration (a `.down.sql` file beside it, or a `-- Down Migration` section)'
            : 'it is not SQL; configure `migrations.command` to apply it',
      }
    }
    const statements = splitStatements(text)
    const transactional = !statements.some((s) => /\bCONCURRENTLY\b/i.test(s.text))
    if (transactional) await client.query('BEGIN')
    for (const statement of statements) {
      try {
        await options.observer?.before(client, statement)
        const begin = performance.now()
        await client.query(statement.text)
        await options.observer?.after(client, statement, migration, performance.now() - begin)
      } catch (error) {
        if (transactional) await client.query('ROLLBACK').catch(() => undefined)
        const e = error as Error & { code?: string; detail?: string }
        return {
          migration: migration.name,
          file: migration.file,
          line: statement.line,
          statement: statement.text,
          error: e.message,
          ...(e.code ? { code: e.code } : {}),
          ...(e.detail ? { detail: e.detail } : {}),
        }
      }
    }
    if (transactional) await client.query('COMMIT')
  }
  return undefined
}

/** Runs a migration command in `cwd` against `url`; a non-zero exit is a failure with the output's tail. */
export async function applyCommand(
  argv: readonly string[],
  cwd: string,
  url: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<MigrationFailure | undefined> {
  const result = await runCommand(argv, {
    cwd,
    env: { ...process.env, DATABASE_URL: url },
    timeoutMs,
    ...(signal ? { signal } : {}),
  })
  if (result.exitCode === 0) return undefined
  const why =
    result.spawnError ?? (result.timedOut ? 'timed out' : `exited with ${result.exitCode ?? result.signal}`)
  return { migration: argv.join(' '), file: cwd, error: `${argv.join(' ')}: ${why}`, output: result.tail }
}

/** One line for a failure: `db/migrations/002_x.sql:4: ALTER TABLE … — column "x" does not exist`. */
export function describeFailure(failure: MigrationFailure, root: string): string {
  const where = `${path.relative(root, failure.file) || failure.file}${failure.line ? `:${failure.line}` : ''}`
  const statement = failure.statement ? ` ${oneLine(failure.statement)} —` : ''
  return `${where}:${statement} ${failure.error}${failure.detail ? ` (${failure.detail})` : ''}`
}

export function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}
