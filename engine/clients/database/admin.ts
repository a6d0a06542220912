/**
 * An administrator's work on a PostgreSQL server vigil may share with others (a `url:` server): finding
 * and dropping the databases of one run, by the prefix every name it made there starts with. Used when a
 * run ends and by `vigil sandboxes gc` for the runs that were killed first.
 */
import pg from 'pg'

/** The URL as shown to people: without its password. */
export function withoutPassword(url: string): string {
  const shown = new URL(url)
  if (shown.password) shown.password = '***'
  return shown.toString()
}

/**
 * The databases named `prefix` or `prefix_…` on the server at `adminUrl` (without a database), dropped
 * with their sessions unless `dryRun`; returns their names. Throws when the server cannot be reached.
 */
export async function dropPrefixed(
  adminUrl: string,
  prefix: string,
  options: { dryRun?: boolean; timeoutMs?: number } = {},
): Promise<string[]> {
  const url = new URL(adminUrl)
  url.pathname = '/postgres'
  const client = new pg.Client({
    connectionString: url.toString(),
    connectionTimeoutMillis: options.timeoutMs ?? 10_000,
  })
  client.on('error', () => undefined)
  await client.connect()
  try {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR left(datname, length($1) + 1) = $1 || '_' ORDER BY 1`,
      [prefix],
    )
    const names = rows.map((r) => r.datname)
    if (options.dryRun || names.length === 0) return names
    const version = Number((await client.query<{ v: string }>('SHOW server_version_num')).rows[0]!.v)
    for (const name of names) await client.query(dropDatabaseSql(name, version))
    return names
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** `DROP DATABASE IF EXISTS name`, ending the database's sessions on PostgreSQL 13+ (`WITH (FORCE)`). */
export function dropDatabaseSql(name: string, versionNum: number): string {
  return `DROP DATABASE IF EXISTS ${quoteIdent(name)}${versionNum >= 130000 ? ' WITH (FORCE)' : ''}`
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}
