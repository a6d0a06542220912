/**
 * What a migration's statements do, observed inside their transaction rather than guessed from the text:
 * the ACCESS EXCLUSIVE locks each statement takes on tables that existed before (`pg_locks` of the
 * migration's own backend), the tables it rewrites (a table's `relfilenode` before and after), and
 * afterwards the rows existing data has that break the new NOT VALID check constraints.
 */
import type pg from 'pg'
import type { MigrationFile, StatementObserver } from '../../clients/database/migrations.js'
import type { SqlStatement } from '../../clients/database/sql.js'

export interface StatementReport {
  migration: string
  line: number
  statement: string
  durationMs: number
  /** Tables that existed before the migration on which it took ACCESS EXCLUSIVE. */
  locks: string[]
  /** Tables whose storage it rewrote. */
  rewrites: string[]
}

const TABLES = `SELECT c.oid::regclass::text AS name, c.relfilenode::text AS node
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%'`
const LOCKS = `SELECT DISTINCT l.relation::regclass::text AS name FROM pg_locks l
  WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'`

export async function tableNodes(client: pg.Client): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; node: string }>(TABLES)
  return new Map(rows.map((r) => [r.name, r.node]))
}

async function lockedTables(client: pg.Client): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>(LOCKS)
  return new Set(rows.map((r) => r.name))
}

/** An observer for `applySql`; `reports` fills as statements apply. */
export function lockObserver(
  existing: ReadonlySet<string>,
): StatementObserver & { reports: StatementReport[] } {
  let nodes = new Map<string, string>()
  let locks = new Set<string>()
  const reports: StatementReport[] = []
  return {
    reports,
    async before(client: pg.Client) {
      nodes = await tableNodes(client)
      locks = await lockedTables(client)
    },
    async after(client: pg.Client, statement: SqlStatement, migration: MigrationFile, durationMs: number) {
      const nowNodes = await tableNodes(client)
      const nowLocks = await lockedTables(client)
      reports.push({
        migration: migration.name,
        line: statement.line,
        statement: statement.text,
        durationMs,
        locks: [...nowLocks].filter((t) => !locks.has(t) && existing.has(t)).sort(),
        rewrites: [...nowNodes]
          .filter(([t, node]) => existing.has(t) && nodes.has(t) && nodes.get(t) !== node)
          .map(([t]) => t)
          .sort(),
      })
    },
  }
}

export interface Violation {
  table: string
  constraint: string
  definition: string
  rows: number
}

/** Rows of existing data that break check constraints added NOT VALID (PostgreSQL did not look at them). */
export async function notValidViolations(client: pg.Client): Promise<Violation[]> {
  const { rows } = await client.query<{ rel: string; name: string; def: string }>(
    `SELECT conrelid::regclass::text AS rel, conname AS name, pg_get_constraintdef(oid) AS def
       FROM pg_constraint WHERE contype = 'c' AND NOT convalidated ORDER BY 1, 2`,
  )
  const out: Violation[] = []
  for (const c of rows) {
    const expr = /^CHECK \((.*)\)(?: NOT VALID)?$/s.exec(c.def)?.[1]
    if (!expr) continue
    const counted = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${c.rel} WHERE NOT (${expr})`,
    )
    const n = counted.rows[0]?.n ?? 0
    if (n > 0) out.push({ table: c.rel, constraint: c.name, definition: c.def, rows: n })
  }
  return out
}
