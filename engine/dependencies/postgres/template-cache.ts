/**
 * Templates kept between runs on a private cluster. Building the template (an empty database, every
 * migration of the baseline, its seed) is most of a database's start; the next run of the same baseline
 * would build the same thing again. A template whose migrations vigil applies itself (SQL, in name order)
 * is named after a hash of what went into it — the PostgreSQL version, each migration's name and SQL, the
 * seed's name and SQL — and is marked a template that takes no connections once it is complete. When the
 * run ends, the cluster goes back to the pool with it (pool.ts keeps the newest few), and a later run that
 * claims that cluster and would build the same template branches from it at once.
 *
 * Not kept: a set a command applies (a tool's JavaScript migrations may read anything, so no hash of files
 * describes what they make), and any template on a server vigil did not start.
 */
import { createHash } from 'node:crypto'
import type { MigrationSet } from '../../clients/database/migrations.js'
import { dropDatabase } from './branches.js'
import { adminClient, quoteIdent, type PostgresInstance } from './instance.js'

/** Names of kept templates; nothing else in a pooled cluster survives a run. */
export const KEPT_TEMPLATE = /^vigil_tpl_[a-f0-9]{20}$/
/** Kept templates per cluster: the newest ones, so a few baselines worked on in turn all stay warm. */
export const MAX_KEPT_TEMPLATES = 3
/** Changes when what vigil puts in a template changes, so older kept ones are never used. */
const FORMAT = 'vigil-template-1'

/**
 * The kept template's name for these inputs; undefined when they cannot be described by their files (a
 * command applies the migrations).
 */
export function keptTemplateName(
  set: MigrationSet,
  seed: { name: string; text: string } | undefined,
  versionNum: number,
): string | undefined {
  if (set.command || set.files.some((f) => f.up === undefined)) return undefined
  const hash = createHash('sha256').update(`${FORMAT}\0${versionNum}\0${set.layout}\0`)
  for (const file of set.files) hash.update(`${file.name}\0${file.up}\0`)
  hash.update(seed ? `seed\0${seed.name}\0${seed.text}` : 'no seed')
  return `vigil_tpl_${hash.digest('hex').slice(0, 20)}`
}

/**
 * True when `name` is a complete kept template on the instance. A database of that name that is not
 * marked a template is what a cut-short build left: it is dropped, so the caller builds it again.
 */
export async function claimKeptTemplate(instance: PostgresInstance, name: string): Promise<boolean> {
  let leftover = false
  const admin = await adminClient(instance, 'postgres')
  try {
    const { rows } = await admin.query<{ datistemplate: boolean }>(
      'SELECT datistemplate FROM pg_database WHERE datname = $1',
      [name],
    )
    if (rows[0]?.datistemplate) return true
    leftover = rows.length > 0
  } finally {
    await admin.end().catch(() => undefined)
  }
  // Should the drop fail, building the template again says so.
  if (leftover) await dropDatabase(instance, name)
  return false
}

/** Marks a built template complete: a template that takes no connections, so nothing changes it. */
export async function sealKeptTemplate(instance: PostgresInstance, name: string): Promise<void> {
  const admin = await adminClient(instance, 'postgres')
  try {
    await admin.query(`ALTER DATABASE ${quoteIdent(name)} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`)
  } finally {
    await admin.end().catch(() => undefined)
  }
}

/**
 * The databases to keep from `databases` (name, template flag, oid): complete kept templates, the newest
 * `MAX_KEPT_TEMPLATES` of them.
 */
export function templatesToKeep(
  databases: ReadonlyArray<{ datname: string; datistemplate: boolean; oid: number | string }>,
): Set<string> {
  return new Set(
    databases
      .filter((d) => d.datistemplate && KEPT_TEMPLATE.test(d.datname))
      .sort((a, b) => Number(b.oid) - Number(a.oid))
      .slice(0, MAX_KEPT_TEMPLATES)
      .map((d) => d.datname),
  )
}
