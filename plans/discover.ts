import { readdir, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import picomatch from 'picomatch'

/** A root that could not be used, reported by the loader as a diagnostic. */
export interface MissingRoot {
  root: string
  reason: string
}

/** Plan files found under the roots: absolute paths, sorted, without duplicates. */
export interface Discovery {
  files: string[]
  missing: MissingRoot[]
  /** Roots (folders or globs) under which no plan file was found. */
  empty: string[]
}

/** Folders never searched: dependencies and dot-folders (.git, .vigil, …). */
function skipped(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.')
}

/**
 * Finds plan files. A root is a file (taken as is, whatever its extension), a folder (every `*.md` below
 * it), or a glob relative to `cwd` (`plans/**\/*.md`, `services/*\/plans`: files it matches, and `*.md`
 * files in folders it matches).
 */
export async function discoverPlanFiles(roots: readonly string[], cwd: string): Promise<Discovery> {
  const found = new Set<string>()
  const missing: MissingRoot[] = []
  const empty: string[] = []
  for (const root of roots) {
    let matched = 0
    const scan = picomatch.scan(root)
    if (scan.isGlob) {
      const base = path.resolve(cwd, scan.base || '.')
      const isMatch = picomatch(toPosix(path.relative(cwd, path.resolve(cwd, root))), { dot: false })
      const files: string[] = []
      await walk(base, files, new Set())
      for (const file of files) {
        const rel = relativeTo(cwd, file)
        if (isMatch(rel) || ancestors(rel).some((dir) => isMatch(dir))) {
          found.add(file)
          matched++
        }
      }
    } else {
      const absolute = path.resolve(cwd, root)
      const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => error)
      if (info instanceof Error) {
        missing.push({ root, reason: info.code === 'ENOENT' ? 'no such file or folder' : info.message })
        continue
      }
      if (info.isDirectory()) {
        const files: string[] = []
        await walk(absolute, files, new Set())
        for (const file of files) found.add(file)
        matched += files.length
      } else {
        found.add(absolute)
        matched++
      }
    }
    if (matched === 0) empty.push(root)
  }
  return { files: [...found].sort(), missing, empty }
}

async function walk(dir: string, out: string[], visited: Set<string>): Promise<void> {
  // Symlinked folders are followed once; their real path guards against cycles.
  const real = await realpath(dir).catch(() => dir)
  if (visited.has(real)) return
  visited.add(real)
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  const subdirs: string[] = []
  for (const entry of entries) {
    if (skipped(entry.name)) continue
    const full = path.join(dir, entry.name)
    let isDir = entry.isDirectory()
    let isFile = entry.isFile()
    if (entry.isSymbolicLink()) {
      const target = await stat(full).catch(() => undefined)
      isDir = target?.isDirectory() ?? false
      isFile = target?.isFile() ?? false
    }
    if (isDir) subdirs.push(full)
    else if (isFile && entry.name.endsWith('.md')) out.push(full)
  }
  await Promise.all(subdirs.map((sub) => walk(sub, out, visited)))
}

function ancestors(rel: string): string[] {
  const parts = rel.split('/')
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'))
}

/** `absolute` relative to `cwd` with `/` separators; the common case is a plain prefix cut. */
export function relativeTo(cwd: string, absolute: string): string {
  const prefix = cwd.endsWith(path.sep) ? cwd : cwd + path.sep
  const rel = absolute.startsWith(prefix) ? absolute.slice(prefix.length) : path.relative(cwd, absolute)
  return toPosix(rel) || '.'
}

/** Native path → `/`-separated. */
export function toPosix(p: string): string {
  return p.split(path.sep).join('/')
}
