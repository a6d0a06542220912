/**
 * The files a plan may read: a plan names schema files, OpenAPI documents, scripts and folders, and those
 * files name more through `$ref`. All of them must stay inside the project — the git repository holding
 * the config (else the config's folder) — or inside a folder the config lists in `allowFiles`. Paths are
 * compared after resolving symlinks, so a link inside the project that leads out counts as outside, and
 * nothing is fetched from the network.
 */
import { lstat, readFile, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { documentProblems } from './bounds.js'
import { relativeTo } from './discover.js'
import { operationIds } from './operations.js'
import { join } from './pointer.js'
import { LineIndex } from './text.js'
import type { Location } from './types.js'
import { MAX_YAML_DEPTH, locate, parseYaml } from './yaml.js'

/** How a plan uses a file it names (the `x-file` annotation of a kind's schema). */
/** Roles whose files are JSON or YAML documents with `$ref`s of their own. */
const DOCUMENT_ROLES: ReadonlySet<string> = new Set(['schema', 'openapi'])

/** A URL scheme (`https://`, `file://`): json-schema-ref-parser's own test for "not a plain path". */
const URL_SCHEME = /^(\w{2,}):\/\//i

/** The folder a project file policy starts from: the git repository containing `dir`, else `dir` (real path). */
export async function projectRoot(dir: string): Promise<string> {
  const start = await realLocation(dir)
  for (let at = start; ;) {
    // `.git` is a folder in a clone and a file in a worktree or submodule.
    const git = await lstat(path.join(at, '.git')).catch(() => undefined)
    if (git) return at
    const parent = path.dirname(at)
    if (parent === at) return start
    at = parent
  }
}

/**
 * The folders plans may read files from: the project of `configDir` and each `allowFiles` entry (relative
 * to `configDir`), as real absolute paths.
 */
export async function fileRoots(configDir: string, allowFiles: readonly string[] = []): Promise<string[]> {
  const roots = [await projectRoot(configDir)]
  for (const folder of allowFiles) roots.push(await realLocation(path.resolve(configDir, folder)))
  return [...new Set(roots)]
}

/** True when `real` (a real absolute path) is one of `roots` or inside one. */
export function insideRoots(real: string, roots: readonly string[]): boolean {
  return roots.some((root) => {
    const relative = path.relative(root, real)
    return (
      relative === '' ||
      (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative))
    )
  })
}

/**
 * Where a path really leads: its real path (symlinks resolved), or for a file that does not exist, the real
 * path of its nearest existing ancestor with the rest appended.
 */
export async function realLocation(file: string): Promise<string> {
  const absolute = path.resolve(file)
  try {
    return await realpath(absolute)
  } catch {
    const parent = path.dirname(absolute)
    if (parent === absolute) return absolute
    return path.join(await realLocation(parent), path.basename(absolute))
  }
}

/** Why a file reference may not be read, or what is wrong inside a schema document it leads to. */
export interface FileProblem {
  code:
    | 'file-outside-project'
    | 'remote-file'
    | 'invalid-file'
    | 'missing-file'
    | 'impossible-bounds'
    | 'invalid-regex'
  /** `is outside the project…` about the named file itself, or `$ref "…" at file:line:col is…` about a document it reads. */
  message: string
  /** True when the problem is in a document the named file leads to, not in the name itself. */
  inDocument: boolean
  /**
   * Where in a document the problem is, for a schema rule that can never hold (`minimum` above `maximum`, a
   * pattern that does not compile): reported there rather than at the name in the plan. Such a problem
   * does not stop the document from being read.
   */
  at?: Location
}

const OUTSIDE = 'list its folder in allowFiles of vigil.config.yaml to read it'
const REMOTE = 'is a URL; plans read local files only'

/**
 * What one document says by itself: its first problem, and the documents its `$ref`s lead to; without a
 * problem, its schema rules that can never hold, and its parsed value.
 */
interface DocumentRefs {
  problem?: FileProblem
  next: string[]
  rules?: FileProblem[]
  value?: unknown
}

/**
 * Checks what plans name, following `$ref`s through the documents they read. One checker serves a whole
 * load: each document is read and scanned once however many plans name it.
 */
export class FileChecker {
  private readonly documents = new Map<string, Promise<DocumentRefs>>()
  /**
   * Where each path really leads, asked once per load: plans of a folder name the same few files, and
   * resolving a path costs a realpath per missing level (the plans benchmark's load/read ratio: about 6.7x
   * without this, 2.9-3.2x with it).
   */
  private readonly locations = new Map<string, Promise<string>>()
  constructor(
    private readonly roots: readonly string[],
    /** Folder that file names in messages are relative to. */
    private readonly cwd: string,
  ) {}

  /**
   * Checks `value` as a plan in folder `dir` names it for `role`: nothing when it may be read and its
   * documents hold no impossible rule; else the one reason it may not be read, or each rule (with `at`).
   */
  async check(value: string, role: string, dir: string): Promise<FileProblem[]> {
    if (URL_SCHEME.test(value)) return [{ code: 'remote-file', message: REMOTE, inDocument: false }]
    const file = role === 'folder' ? value : (value.split('#')[0] ?? '')
    if (file === '') return []
    const absolute = path.resolve(dir, file)
    const outside = await this.outside(absolute)
    if (outside) return [{ code: 'file-outside-project', message: outside, inDocument: false }]
    const missing = await this.missing(absolute, role)
    if (missing) return [{ code: 'missing-file', message: missing, inDocument: false }]
    if (!DOCUMENT_ROLES.has(role)) return []
    // Every document reachable through $refs, breadth first; a cycle of $refs is visited once.
    const seen = new Set([await this.real(absolute)])
    const rules: FileProblem[] = []
    for (const queue = [...seen]; queue.length > 0;) {
      const { problem, next, rules: own = [] } = await this.refs(queue.shift()!)
      if (problem) return [problem]
      rules.push(...own)
      for (const real of next) {
        if (seen.has(real)) continue
        seen.add(real)
        queue.push(real)
      }
    }
    return rules
  }

  /**
   * The operation ids of the OpenAPI document `value` names from folder `dir` (undefined when it is not
   * one). Only for a name {@link check} found no reason not to read: the `$ref`s it follows are checked.
   */
  async operations(value: string, dir: string): Promise<string[] | undefined> {
    const start = await this.real(path.resolve(dir, value.split('#')[0] ?? ''))
    return operationIds((await this.refs(start)).value, async (target, from = start) => {
      try {
        const at = await this.real(fileURLToPath(new URL(target, pathToFileURL(from))))
        return { value: (await this.refs(at)).value, at }
      } catch {
        return { value: undefined }
      }
    })
  }

  /** Why `absolute` is outside the roots (`is outside the project…`), or undefined. */
  private async outside(absolute: string): Promise<string | undefined> {
    if (insideRoots(await this.real(absolute), this.roots)) return undefined
    const through = insideRoots(path.resolve(absolute), this.roots) ? ' (through a symlink)' : ''
    return `is outside the project${through}; ${OUTSIDE}`
  }

  /**
   * Why `absolute` cannot be what `role` needs (`does not exist (resolved to schemas/x.json)`), or
   * undefined: found when plans load, with the path the plan's folder resolves it to, rather than as an
   * ENOENT when the check runs.
   */
  private async missing(absolute: string, role: string): Promise<string | undefined> {
    const found = await stat(await this.real(absolute)).catch(() => undefined)
    const shown = relativeTo(this.cwd, absolute)
    if (!found) return `does not exist (resolved to ${shown}, relative to the plan's folder)`
    if (role === 'folder' ? !found.isDirectory() : !found.isFile())
      return `is not a ${role === 'folder' ? 'folder' : 'file'} (resolved to ${shown})`
    return undefined
  }

  private real(absolute: string): Promise<string> {
    let location = this.locations.get(absolute)
    if (!location) this.locations.set(absolute, (location = realLocation(absolute)))
    return location
  }

  private refs(real: string): Promise<DocumentRefs> {
    let scanning = this.documents.get(real)
    if (!scanning) {
      scanning = this.scan(real)
      this.documents.set(real, scanning)
    }
    return scanning
  }

  private async scan(real: string): Promise<DocumentRefs> {
    // A missing, unreadable or unparsable document is the check's to report when it runs, as before.
    const isFile = await stat(real).then(
      (s) => s.isFile(),
      () => false,
    )
    const text = isFile ? await readFile(real, 'utf8').catch(() => undefined) : undefined
    if (text === undefined) return { next: [] }
    const shown = relativeTo(this.cwd, real)
    const parsed = parseDocument(text)
    if (parsed.tooDeep) {
      const { offset, message } = parsed.tooDeep
      const problem = `${shown}:${position(text, offset)} ${message}`
      return { problem: { code: 'invalid-file', message: problem, inDocument: true }, next: [] }
    }
    const next: string[] = []
    for (const { pointer, ref } of refsOf(parsed.value)) {
      const target = ref.split('#')[0] ?? ''
      if (target === '') continue
      const at = `$ref ${JSON.stringify(ref)} at ${shown}:${position(text, locateRef(text, pointer))}`
      // `//host/x` is a URL too: relative to a file it names another host.
      if ((URL_SCHEME.test(target) && !/^file:/i.test(target)) || target.startsWith('//')) {
        return { problem: { code: 'remote-file', message: `${at} ${REMOTE}`, inDocument: true }, next }
      }
      // Resolved as json-schema-ref-parser does: a URL relative to the document (so %2e%2e is `..`).
      let absolute: string
      try {
        absolute = fileURLToPath(new URL(target, pathToFileURL(real)))
      } catch {
        return {
          problem: { code: 'invalid-file', message: `${at} is not a file path`, inDocument: true },
          next,
        }
      }
      const outside = await this.outside(absolute)
      if (outside) {
        return {
          problem: { code: 'file-outside-project', message: `${at} ${outside}`, inDocument: true },
          next,
        }
      }
      next.push(await this.real(absolute))
    }
    return { next, rules: this.rules(parsed.value, text, shown), value: parsed.value }
  }

  /** A document's schema rules that can never hold, each at its file:line:col. */
  private rules(value: unknown, text: string, shown: string): FileProblem[] {
    const found = documentProblems(value)
    if (found.length === 0) return []
    const doc = parseYaml(text).doc
    const lines = new LineIndex(text)
    return found.map((p) => ({
      code: p.code,
      message: p.message,
      inDocument: true,
      at: { file: shown, ...lines.position(locate(doc, p.pointer).value) },
    }))
  }
}

/** A JSON or YAML document's value (JSON.parse first: fast, and positions are only needed for problems). */
function parseDocument(text: string): {
  value?: unknown
  tooDeep?: { offset: number; message: string }
} {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    const yaml = parseYaml(text)
    const deep = yaml.errors.find((e) => e.message.startsWith('nested deeper'))
    return deep ? { tooDeep: deep } : { value: yaml.value }
  }
  if (depthOf(value) > MAX_YAML_DEPTH) {
    const deep = parseYaml(text).errors.find((e) => e.message.startsWith('nested deeper'))
    if (deep) return { tooDeep: deep }
  }
  return { value }
}

/** How deeply a parsed value nests, without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (node === null || typeof node !== 'object') continue
    deepest = Math.max(deepest, depth + 1)
    if (deepest > MAX_YAML_DEPTH) return deepest
    for (const child of Object.values(node)) stack.push([child, depth + 1])
  }
  return deepest
}

/** Every string `$ref` of a document, with the JSON pointer of the object holding it, in document order. */
function refsOf(value: unknown): Array<{ pointer: string; ref: string }> {
  const out: Array<{ pointer: string; ref: string }> = []
  const stack: Array<[unknown, string]> = [[value, '']]
  while (stack.length > 0) {
    const [node, pointer] = stack.pop()!
    if (node === null || typeof node !== 'object') continue
    const ref = (node as Record<string, unknown>).$ref
    if (typeof ref === 'string') out.push({ pointer: `${pointer}/$ref`, ref })
    const entries = Object.entries(node)
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!
      stack.push([child, join(pointer, key)])
    }
  }
  return out
}

/** Offset of the value at `pointer` in a JSON or YAML text. */
function locateRef(text: string, pointer: string): number {
  return locate(parseYaml(text).doc, pointer).value
}

function position(text: string, offset: number): string {
  const { line, column } = new LineIndex(text).position(offset)
  return `${line}:${column}`
}
