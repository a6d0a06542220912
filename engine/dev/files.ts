/**
 * What changed in a warm session's tree between two iterations: each service's files (its `watch:` globs,
 * else its cwd tree, and the package files where it runs and above) and everything else (plans, API
 * documents: the catalog). Contents are hashed, so a
 * save that changes nothing restarts nothing; a file is read again only when its size or mtime moved.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import picomatch from 'picomatch'
import type { Sandbox, ServiceFiles } from '../api/sandbox.js'

/** Folders that are never a service's source: git's, vigil's own and installed packages. */
export const IGNORED_FOLDERS: ReadonlySet<string> = new Set(['.git', '.vigil', 'node_modules'])

interface Entry {
  size: number
  mtimeMs: number
  hash: string
}

/** Fingerprints of one tree's services and of the rest of it. */
export interface TreePrints {
  /** By service name. */
  services: Record<string, string>
  /** Every file no service claims (plans, schemas, API documents). */
  rest: string
  /** The files of each service that differ from the previous prints' (for messages). */
  changed: Record<string, string[]>
  /** Every file's hash they were made from. */
  files: TreeSnapshot
}

/** Every file's content hash at one moment, by path relative to the tree's root. */
export type TreeSnapshot = ReadonlyMap<string, string>

/** Keeps the hashes of one tree between iterations. */
export class TreeWatcher {
  private readonly entries = new Map<string, Entry>()
  private previous: TreeSnapshot = new Map()

  /** `files`: each service's files, when known (`serve` sets them once the sandboxes have started). */
  constructor(
    private readonly root: string,
    private files: Readonly<Record<string, ServiceFiles>> = {},
  ) {}

  /** Sets each service's files. */
  serve(files: Readonly<Record<string, ServiceFiles>>): void {
    this.files = files
  }

  /** The tree as it is now, or as `snapshot` took it earlier. */
  async prints(taken?: TreeSnapshot): Promise<TreePrints> {
    const current = taken ?? (await this.snapshot())
    const matchers = serviceMatchers(this.files)
    const byService: Record<string, string[]> = Object.fromEntries(matchers.map(([n]) => [n, []]))
    const rest: string[] = []
    const paths = [...current.keys()].sort()
    for (const rel of paths) {
      let claimed = false
      for (const [name, match] of matchers) {
        if (!match(rel)) continue
        byService[name]!.push(rel)
        claimed = true
      }
      if (!claimed) rest.push(rel)
    }
    const digest = (list: string[]): string =>
      createHash('sha1')
        .update(list.map((rel) => `${rel}\0${current.get(rel)}`).join('\n'))
        .digest('hex')
    const changed: Record<string, string[]> = {}
    const seen = [...new Set([...this.previous.keys(), ...current.keys()])].sort()
    for (const [name, match] of matchers)
      changed[name] = seen.filter((rel) => match(rel) && this.previous.get(rel) !== current.get(rel))
    this.previous = current
    return {
      services: Object.fromEntries(Object.entries(byService).map(([n, list]) => [n, digest(list)])),
      rest: digest(rest),
      changed,
      files: current,
    }
  }

  /** Every file's content hash now; a file is read again only when its size or mtime moved. */
  async snapshot(): Promise<TreeSnapshot> {
    const files = await walk(this.root)
    const current = new Map<string, string>()
    await Promise.all(
      files.map(async (rel) => {
        const full = path.join(this.root, rel)
        const info = await stat(full).catch(() => undefined)
        if (!info) return
        const known = this.entries.get(rel)
        if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) {
          current.set(rel, known.hash)
          return
        }
        const content = await readFile(full).catch(() => undefined)
        if (!content) return
        const hash = createHash('sha1').update(content).digest('hex')
        this.entries.set(rel, { size: info.size, mtimeMs: info.mtimeMs, hash })
        current.set(rel, hash)
      }),
    )
    for (const rel of this.entries.keys()) if (!current.has(rel)) this.entries.delete(rel)
    return current
  }
}

/**
 * A print of the files a sandbox's dependencies read when they started (`inputs`: files and folders relative
 * to the tree's root, as `Sandbox.dependencyInputs`: a database's migrations and seed); of every file no
 * service claims when `inputs` is undefined (one of them may read any).
 */
export function inputsPrint(prints: TreePrints, inputs: readonly string[] | undefined): string {
  if (!inputs) return prints.rest
  const read = underInputs([...prints.files.keys()], inputs).sort()
  return createHash('sha1')
    .update(read.map((rel) => `${rel}\0${prints.files.get(rel)}`).join('\n'))
    .digest('hex')
}

/**
 * The files the sandbox's dependencies read when they started (`Sandbox.dependencyInputs`): none without
 * dependencies; undefined when one of them may read any.
 */
export function dependencyInputs(sandbox: Sandbox): readonly string[] | undefined {
  return Object.keys(sandbox.deps ?? {}).length ? sandbox.dependencyInputs : []
}

/** The files among `files` (relative, with `/`) that are, or are under, one of `inputs`. */
export function underInputs(files: readonly string[], inputs: readonly string[]): string[] {
  const norm = inputs.map((i) => path.posix.normalize(i.split(path.sep).join('/')).replace(/\/+$/, ''))
  return files.filter((file) => norm.some((i) => i === '.' || file === i || file.startsWith(`${i}/`)))
}

/**
 * Files that say which packages a service runs with, by name: an upgrade changes one of them (and installed
 * packages, which are never watched) and none of the service's sources.
 */
export const PACKAGE_FILES: ReadonlySet<string> = new Set([
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
  'requirements.txt',
  'pyproject.toml',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'go.mod',
  'go.sum',
  'Cargo.toml',
  'Cargo.lock',
  'Gemfile',
  'Gemfile.lock',
  'composer.json',
  'composer.lock',
  'pom.xml',
  'build.gradle',
  'build.gradle.kts',
  'gradle.lockfile',
  'mix.exs',
  'mix.lock',
])

/**
 * A matcher of each service's files (relative to the tree's root): its globs, and the package files in the
 * folder it runs in and in each folder above it.
 */
export function serviceMatchers(
  files: Readonly<Record<string, ServiceFiles>>,
): Array<readonly [string, (file: string) => boolean]> {
  return Object.entries(files).map(([name, f]) => {
    const glob = picomatch(f.globs as string[], { dot: true })
    const above = f.cwd === undefined ? undefined : foldersUpFrom(f.cwd)
    const packages = (file: string): boolean => {
      if (!above || !PACKAGE_FILES.has(path.posix.basename(file))) return false
      return above.has(path.posix.dirname(file))
    }
    return [name, (file: string) => glob(file) || packages(file)] as const
  })
}

/** `a/b` → `a/b`, `a`, `.`: a folder and those above it, as `path.posix.dirname` names them. */
function foldersUpFrom(folder: string): Set<string> {
  const out = new Set<string>()
  for (let dir = path.posix.normalize(folder); ; dir = path.posix.dirname(dir)) {
    out.add(dir)
    if (dir === '.' || dir === '/' || dir.startsWith('..')) return out
  }
}

/** Every file under `root`, relative with `/`, outside the ignored folders. */
async function walk(root: string): Promise<string[]> {
  const out: string[] = []
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(path.join(root, dir), { withFileTypes: true }).catch(() => [])
    await Promise.all(
      entries.map(async (entry) => {
        const rel = dir ? `${dir}/${entry.name}` : entry.name
        if (entry.isDirectory()) {
          if (!IGNORED_FOLDERS.has(entry.name)) await visit(rel)
        } else if (entry.isFile()) out.push(rel)
      }),
    )
  }
  await visit('')
  return out
}
