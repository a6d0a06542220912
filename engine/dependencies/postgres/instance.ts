/**
 * The PostgreSQL server of one run, shared by its sandboxes: a private one (on a free loopback port, in a
 * `vigil-dep-postgres-*` folder, as the server's user when vigil is root, its cluster one an earlier run
 * gave back or else a copy of the cached cluster: pool.ts),
 * or the one a `url:` names. Either way vigil connects as an administrator to make and drop databases.
 */
import { chownSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { InfrastructureError } from '../../errors.js'
export { quoteIdent } from '../../clients/database/admin.js'
import type { DependencyStartContext } from '../../api/dependency.js'
import { sharedUrl, type CommonOptions } from '../parts.js'
import { startServer, type RunningServer } from '../server.js'
import { findPostgres, runnableBy, type PostgresBinaries } from './binaries.js'
import { cachedCluster, copyCluster, serverUser, type CachedCluster, type OsUser } from './cluster.js'
import { branchRootFor, branchSpace, type BranchSpace } from './memory.js'
import { claimPooled, givePooled, resetForPool } from './pool.js'

export interface PostgresInstance {
  /** The administrator's URL without a database (`postgres://postgres:…@127.0.0.1:5432`). */
  adminUrl: URL
  /** `server_version_num`, e.g. 180004. */
  versionNum: number
  /** Where the server comes from, for logs and the endpoint's isolation sentence. */
  origin: string
  /** True for a server vigil started (its databases go with its data folder). */
  private: boolean
  /** Where branches are made when not in the server's default tablespace (memory.ts). */
  branches?: BranchSpace
  logs(): string[]
  /** How a server vigil started ended when it ended on its own; undefined while it runs. @default never asked */
  died?(): string | undefined
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
/** Each log line names its database, so the migration gate finds the errors of its own database. */
const LOGGING = ['log_line_prefix=%m [%p] db=%d ']

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
  const user = serverUser()
  let binaries: PostgresBinaries
  try {
    binaries = runnableBy(findPostgres(options), user)
  } catch (error) {
    throw new InfrastructureError(
      `${ctx.sandbox} sandbox, dependency ${ctx.name} (postgres): ${(error as Error).message}`,
      [],
      { code: 'VIGIL_DEPENDENCY_MISSING', cause: error },
    )
  }
  const cluster = await cachedCluster(binaries, user, ctx.signal, ctx.track)
  if (cluster.created)
    ctx.log(
      `dependency ${ctx.name} (postgres): initialised a cluster for PostgreSQL ${binaries.version} (cached)`,
    )
  try {
    return await startPrivate(binaries, cluster, user, ctx, timeoutMs, true)
  } catch (error) {
    // A pooled cluster that does not start (or lets vigil in no more) is dropped; a fresh copy is tried.
    if (!(error instanceof PooledClusterError)) throw error
    ctx.log(`dependency ${ctx.name} (postgres): a reused cluster did not start (${error.message}); copying`)
    return startPrivate(binaries, cluster, user, ctx, timeoutMs, false)
  }
}

/** A server on a pooled cluster failed to start; the cluster was discarded. */
class PooledClusterError extends Error {}

/**
 * A private server: on a cluster an earlier run gave back (renamed into place) when `reuse` and the pool
 * has one, else on a copy of the cached cluster. Stopped, it drops its databases and gives its cluster back.
 */
async function startPrivate(
  binaries: PostgresBinaries,
  cluster: CachedCluster,
  user: OsUser | undefined,
  ctx: DependencyStartContext,
  timeoutMs: number,
  reuse: boolean,
): Promise<PostgresInstance> {
  // Set by the hooks: how many runs used the claimed cluster before (none: a copy), and whether it may go back.
  const state: { uses?: number; reusable: boolean } = { reusable: false }
  let server: RunningServer
  try {
    server = await startServer(ctx, {
      binary: `${binaries.bin}/postgres`,
      debianPackage: 'postgresql',
      kind: 'postgres',
      prepare: async (dir) => {
        const uses = reuse ? claimPooled(cluster.pool, path.join(dir, 'data')) : undefined
        if (uses === undefined) copyCluster(cluster, dir, user)
        else {
          state.uses = uses
          if (user) chownSync(dir, user.uid, user.gid)
        }
      },
      release: (dir) => {
        if (state.reusable) givePooled(cluster.pool, path.join(dir, 'data'), state.uses ?? 0)
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
        ...[...FAST, ...LOGGING].flatMap((s) => ['-c', s]),
      ],
      env: () => ({ LC_ALL: 'C' }),
      timeoutMs,
    })
  } catch (error) {
    if (state.uses !== undefined) throw new PooledClusterError((error as Error).message, { cause: error })
    throw error
  }
  const adminUrl = new URL(`postgres://postgres@${server.host}:${server.port}`)
  adminUrl.password = cluster.password
  // Branches in memory (memory.ts): the tablespace is made with the first branch.
  const root = branchRootFor(user)
  const space = root
    ? branchSpace(root, user, ctx.track, (line) => ctx.log(`dependency ${ctx.name} (postgres): ${line}`))
    : undefined
  try {
    const probe = new URL(adminUrl)
    probe.pathname = '/postgres'
    const versionNum = await serverVersion(probe, timeoutMs, ctx.signal)
    const instance: PostgresInstance = {
      adminUrl,
      versionNum,
      origin: `a private PostgreSQL ${binaries.version} (${binaries.source} binaries, pid ${server.pid}, port ${server.port}, ${state.uses === undefined ? 'a copy of the cached cluster' : 'a reused cluster'})`,
      private: true,
      ...(space ? { branches: space } : {}),
      logs: server.logs,
      died: server.died,
      stop: async () => {
        state.reusable = await resetForReuse(instance, space)
        // Fast shutdown (SIGINT): a smart one (SIGTERM) would wait for every client to hang up.
        if (server.pid) signalQuietly(server.pid, 'SIGINT')
        await server.stop()
        space?.remove()
      },
    }
    return instance
  } catch (error) {
    await server.stop()
    space?.remove()
    if (state.uses !== undefined) throw new PooledClusterError((error as Error).message, { cause: error })
    throw error
  }
}

/** Drops the run's databases and says whether the cluster is clean enough to be given back. */
async function resetForReuse(instance: PostgresInstance, space: BranchSpace | undefined): Promise<boolean> {
  try {
    const admin = await adminClient(instance, 'postgres')
    try {
      if (space && !(await space.drop(admin, instance.versionNum))) return false
      return await resetForPool(admin, instance.versionNum)
    } finally {
      await admin.end().catch(() => undefined)
    }
  } catch {
    return false
  }
}

/** Connects (retrying while the server is still starting up) and reads its version number. */
async function serverVersion(url: URL, timeoutMs: number, signal: AbortSignal): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 })
    try {
      await client.connect()
      const result = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")
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

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // Already gone.
  }
}
