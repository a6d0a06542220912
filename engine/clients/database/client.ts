/**
 * The database client kinds use (`meta.needs: ['database']`): SQL on a sandbox's own database only — the
 * database of a `postgres` dependency of the run's sandboxes, at its address; anything else is refused
 * like off-sandbox HTTP. Parameters are always bound (`$1`), never spliced. Each query runs in its own
 * transaction, read-only unless the caller asks to write.
 */
import pg from 'pg'
import { VigilError } from '../../errors.js'
import type { ClientContext } from '../client.js'
import type { DependencyEndpoint } from '../dependency-endpoint.js'
import { postgresSettings } from './settings.js'

export class NotASandboxDatabaseError extends VigilError {
  constructor(endpoint: DependencyEndpoint) {
    super(
      'VIGIL_NOT_A_DATABASE',
      `dependency ${endpoint.name} (${endpoint.kind}) is not a sandbox database; the database client speaks to the postgres dependencies vigil branched for this run`,
      { exitCode: 2 },
    )
  }
}

export interface QueryResult {
  rows: Array<Record<string, unknown>>
  /** Column names, in order. */
  columns: string[]
  durationMs: number
}

export interface QueryOptions {
  /** Run in a read-write transaction. @default false (read only) */
  write?: boolean
  /** Statement deadline. @default 30s */
  timeoutMs?: number
}

export class DatabaseClient {
  private readonly pools = new Map<string, pg.Pool>()

  constructor(private readonly ctx: ClientContext) {}

  /** Runs one statement with bound parameters on the database of `endpoint`. */
  async query(
    endpoint: DependencyEndpoint,
    sql: string,
    params: readonly unknown[],
    options: QueryOptions = {},
  ): Promise<QueryResult> {
    const settings = postgresSettings(endpoint)
    const url = new URL(endpoint.url)
    if (!settings || url.pathname !== `/${settings.database}`) throw new NotASandboxDatabaseError(endpoint)
    this.ctx.addresses.check(url)
    let pool = this.pools.get(endpoint.url)
    if (!pool) {
      pool = new pg.Pool({ connectionString: endpoint.url, max: 2, connectionTimeoutMillis: 10_000 })
      pool.on('error', () => undefined)
      this.pools.set(endpoint.url, pool)
    }
    const client = await pool.connect()
    const begin = performance.now()
    try {
      await client.query(options.write ? 'BEGIN' : 'BEGIN READ ONLY')
      await client.query(
        `SET LOCAL statement_timeout = ${Math.max(1, Math.round(options.timeoutMs ?? 30_000))}`,
      )
      const result = await client.query({ text: sql, values: [...params] })
      await client.query('COMMIT')
      return {
        rows: result.rows as Array<Record<string, unknown>>,
        columns: (result.fields ?? []).map((f) => f.name),
        durationMs: performance.now() - begin,
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  /** A psql command that runs the same statement by hand (password redacted). */
  reproduce(endpoint: DependencyEndpoint, sql: string, params: readonly unknown[]): string {
    const url = new URL(endpoint.url)
    url.password = ''
    const bound = params.length
      ? ` -- with ${params.map((p, i) => `$${i + 1}=${JSON.stringify(p)}`).join(', ')}`
      : ''
    return this.ctx.redactor.text(`psql '${url.toString()}' -c ${JSON.stringify(sql)}${bound}`)
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()]
    this.pools.clear()
    await Promise.allSettled(pools.map((p) => p.end()))
  }
}
