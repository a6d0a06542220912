/**
 * The PostgreSQL server of one run, shared by its sandboxes: a private one (a copy of the cached cluster
 * on a free loopback port, in a `vigil-dep-postgres-*` folder, as the server's user when vigil is root),
 * or the one a `url:` names. Either way vigil connects as an administrator to make and drop databases.
 */
import pg from 'pg'
import { InfrastructureError } from '../../errors.js'
import type { DependencyStartContext } from '../../api/dependency.js'
import { sharedUrl, type CommonOptions } from '../parts.js'
import { startServer } from '../server.js'
import { findPostgres, type PostgresBinaries } from './binaries.js'
import { cachedCluster, copyCluster, serverUser } from './cluster.js'

export interface PostgresInstance {
  /** The administrator's URL without a database (`postgres://postgres:…@127.0.0.1:5432`). */
  adminUrl: URL
  /** `server_version_num`, e.g. 180004. */
  versionNum: number
  /** Where the server comes from, for logs and the endpoint's isolation sentence. */
  origin: string
  /** True for a server vigil started (its databases go with its data folder). */
  private: boolean
  logs(): string[]
  stop(): Promise<void>
}

export interface InstanceOptions extends CommonOptions {
  /** Folder of the server binaries. */
  binaries?: string
  /** Which binaries to take when both the machine's and the embedded ones are there. @default machine */
  prefer?: 'machine' | 'embedded'
}

/** Settings for a throw-away server: durability off, which sandboxes do not need. */
const FAST = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=200']

export async function startInstance(
  options: InstanceOptions,
  ctx: DependencyStartContext,
  timeoutMs: number,
): Promise<PostgresInstance> {
  if (options.url) {
    const url = sharedUrl(options, ctx, 5432)
    url.pathname = '/postgres'
    const versionNum = await serverVersion(url, timeoutMs, ctx.signal)
    url.pathname = ''
    return {
      adminUrl: url,
      versionNum,
      origin: `the server at ${url.host}`,
      private: false,
      logs: () => [],
      stop: async () => undefined,
    }
  }
  let binaries: PostgresBinaries
  try {
    binaries = findPostgres(options)
  } catch (error) {
    throw new InfrastructureError(
      `${ctx.sandbox} sandbox, dependency ${ctx.name} (postgres): ${(error as Error).message}`,
      [],
      { code: 'VIGIL_DEPENDENCY_MISSING', cause: error },
    )
  }
  const user = serverUser()
  const cluster = await cachedCluster(binaries, user, ctx.signal)
  if (cluster.created)
    ctx.log(
      `dependency ${ctx.name} (postgres): initialised a cluster for PostgreSQL ${binaries.version} (cached)`,
    )
  const server = await startServer(ctx, {
    binary: `${binaries.bin}/postgres`,
    debianPackage: 'postgresql',
    kind: 'postgres',
    prepare: async (dir) => {
      copyCluster(cluster, dir, user)
    },
    ...(user ? { user } : {}),
    argv: (port, dir) => [
      'postgres',
      '-D',
      `${dir}/data`,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...FAST.flatMap((s) => ['-c', s]),
    ],
    env: () => ({ LC_ALL: 'C' }),
    timeoutMs,
  })
  const adminUrl = new URL(`postgres://postgres@${server.host}:${server.port}`)
  adminUrl.password = cluster.password
  try {
    const probe = new URL(adminUrl)
    probe.pathname = '/postgres'
    const versionNum = await serverVersion(probe, timeoutMs, ctx.signal)
    return {
      adminUrl,
      versionNum,
      origin: `a private PostgreSQL ${binaries.version} (${binaries.source} binaries, pid ${server.pid}, port ${server.port})`,
      private: true,
      logs: server.logs,
      stop: async () => {
        // Fast shutdown (SIGINT): a smart one (SIGTERM) would wait for every client to hang up.
        if (server.pid) signalQuietly(server.pid, 'SIGINT')
        await server.stop()
      },
    }
  } catch (error) {
    await server.stop()
    throw error
  }
}

/** Connects (retrying while the server is still starting up) and reads its version number. */
async function serverVersion(url: URL, timeoutMs: number, signal: AbortSignal): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 })
    try {
      await client.connect()
      const result = await client.query<{ v: string }>('SHOW server_version_num')
      return Number(result.rows[0]!.v)
    } catch (error) {
      const code = (error as { code?: string }).code
      // 57P03: the database system is starting up.
      if ((code === '57P03' || code === 'ECONNREFUSED') && Date.now() < deadline && !signal.aborted) {
        await new Promise((r) => setTimeout(r, 50))
        continue
      }
      throw new InfrastructureError(
        `postgres at ${url.host}: cannot connect: ${(error as Error).message}`,
        [],
        { code: 'VIGIL_DEPENDENCY_START', cause: error },
      )
    } finally {
      await client.end().catch(() => undefined)
    }
  }
}

/** An administrator's client on `database`. */
export async function adminClient(instance: PostgresInstance, database: string): Promise<pg.Client> {
  const url = new URL(instance.adminUrl)
  url.pathname = `/${database}`
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 10_000 })
  await client.connect()
  return client
}

/** A database's URL on the instance. */
export function databaseUrl(instance: PostgresInstance, database: string): string {
  const url = new URL(instance.adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // Already gone.
  }
}
