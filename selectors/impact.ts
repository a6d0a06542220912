/**
 * The impact map: which code each plan exercises, learned by running the plans with coverage
 * (`vigil impact record`). A file meant to be committed beside the config (`vigil.impact.json`): sorted,
 * one function per line, with the commit it was recorded at and a hash of every file it knows, so a
 * file that changed since is detected as stale and never silently trusted.
 *
 * Selection: a changed line inside a recorded function selects the plans that executed it (source
 * `impact`). A file whose hash no longer matches — or that cannot be read to check — is matched by file:
 * every plan that executed any of its functions, said as such. A changed file the map has never seen is
 * uncovered. A manifest change naming a package (`"yargs": "^17"`) selects the plans that executed it.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { CodedError } from '../plans/errors.js'
import type { ExecutedFunction } from './impact-coverage.js'
import type { ParsedDiff, SelectedPlan } from './types.js'

export const IMPACT_FILE = 'vigil.impact.json'

export interface ImpactFunction {
  name: string
  /** First and last line, inclusive. */
  lines: [number, number]
  /** Plans whose requests executed it (start-up excluded), sorted. */
  plans: string[]
}

export interface ImpactMap {
  schemaVersion: 1
  /** The commit the map was recorded at (HEAD of the source root's repository), when known. */
  commit?: string
  /** How coverage was attributed to plans. */
  attribution: string
  /** The plans that were recorded, sorted. */
  plans: string[]
  /** Files relative to the diff's root, sorted. */
  files: Record<string, ImpactFile>
  /** Packages (by name) whose code a plan's requests executed → those plans. */
  packages: Record<string, string[]>
}

export interface ImpactFile {
  sha256: string
  /**
   * A short hash of each line as recorded (see {@link lineHashes}), space-separated: when the file has
   * changed since, a hunk's old-side lines are found in it by content, as \`patch\` finds a hunk at an
   * offset, and its changed lines are matched against the recorded functions at their recorded places.
   */
  lines?: string
  functions: ImpactFunction[]
}

/**
 * One 4-hex-digit hash per line of trimmed text (`-` for a blank line). 16 bits a line is enough: a hunk is
 * placed only where a run of several lines matches, and only when that place is the only one.
 */
export function lineHashes(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const t = line.trim()
      return t ? createHash('sha256').update(t).digest('hex').slice(0, 4) : '-'
    })
    .join(' ')
}

export interface Recorded {
  plan: string
  functions: ExecutedFunction[]
}

/**
 * Builds the map from one coverage per plan and the services' start-up coverage: a function is a plan's
 * when the plan's processes called it more often than start-up alone does.
 */
export async function buildImpactMap(input: {
  root: string
  startup: ExecutedFunction[]
  recorded: Recorded[]
  commit?: string
}): Promise<ImpactMap> {
  const key = (f: ExecutedFunction) => `${f.file}\0${f.lines[0]}\0${f.lines[1]}\0${f.name}`
  const atStart = new Map<string, number>()
  for (const f of input.startup) atStart.set(key(f), (atStart.get(key(f)) ?? 0) + f.count)
  const functions = new Map<string, { file: string; fn: ImpactFunction }>()
  const packages = new Map<string, Set<string>>()
  for (const { plan, functions: fns } of input.recorded) {
    for (const f of fns) {
      if (f.count <= (atStart.get(key(f)) ?? 0)) continue
      const rel = path.relative(input.root, f.file).split(path.sep).join('/')
      if (rel.startsWith('../') || path.isAbsolute(rel)) continue
      const pkg = packageOf(rel)
      if (pkg) {
        ;(packages.get(pkg) ?? packages.set(pkg, new Set()).get(pkg)!).add(plan)
        continue
      }
      const k = `${rel}\0${f.lines[0]}\0${f.lines[1]}\0${f.name}`
      let entry = functions.get(k)
      if (!entry) functions.set(k, (entry = { file: rel, fn: { name: f.name, lines: f.lines, plans: [] } }))
      if (!entry.fn.plans.includes(plan)) entry.fn.plans.push(plan)
    }
  }
  const files: ImpactMap['files'] = {}
  for (const rel of [...new Set([...functions.values()].map((e) => e.file))].sort()) {
    const text = await readFile(path.join(input.root, rel)).catch(() => undefined)
    if (!text) continue
    files[rel] = {
      sha256: createHash('sha256').update(text).digest('hex'),
      lines: lineHashes(text.toString('utf8')),
      functions: [...functions.values()]
        .filter((e) => e.file === rel)
        .map((e) => ({ ...e.fn, plans: e.fn.plans.sort() }))
        .sort((a, b) => a.lines[0] - b.lines[0] || a.lines[1] - b.lines[1] || (a.name < b.name ? -1 : 1)),
    }
  }
  return {
    schemaVersion: 1,
    ...(input.commit ? { commit: input.commit } : {}),
    attribution:
      'each plan ran on fresh service processes; a function is a plan’s when the plan called it more often than start-up does',
    plans: input.recorded.map((r) => r.plan).sort(),
    files,
    packages: Object.fromEntries(
      [...packages.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, [...v].sort()]),
    ),
  }
}

/** The package a `node_modules/` path belongs to (the innermost one; scoped names kept). */
function packageOf(rel: string): string | undefined {
  const at = rel.lastIndexOf('node_modules/')
  if (at < 0) return undefined
  const parts = rel.slice(at + 'node_modules/'.length).split('/')
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
}

/** The map as committed: two-space JSON, one function per line, so a re-recording diffs line by line. */
export function renderImpactMap(map: ImpactMap): string {
  const lines: string[] = ['{', `  "schemaVersion": 1,`]
  if (map.commit) lines.push(`  "commit": ${JSON.stringify(map.commit)},`)
  lines.push(`  "attribution": ${JSON.stringify(map.attribution)},`)
  lines.push(`  "plans": ${JSON.stringify(map.plans)},`)
  const files = Object.entries(map.files)
  lines.push(`  "files": {${files.length ? '' : '},'}`)
  files.forEach(([file, entry], i) => {
    lines.push(`    ${JSON.stringify(file)}: {`, `      "sha256": ${JSON.stringify(entry.sha256)},`)
    if (entry.lines !== undefined) lines.push(`      "lines": ${JSON.stringify(entry.lines)},`)
    lines.push(`      "functions": [`)
    entry.functions.forEach((fn, j) =>
      lines.push(`        ${JSON.stringify(fn)}${j < entry.functions.length - 1 ? ',' : ''}`),
    )
    lines.push('      ]', `    }${i < files.length - 1 ? ',' : ''}`)
  })
  if (files.length) lines.push('  },')
  const pkgs = Object.entries(map.packages)
  lines.push(`  "packages": {${pkgs.length ? '' : '}'}`)
  pkgs.forEach(([name, plans], i) =>
    lines.push(`    ${JSON.stringify(name)}: ${JSON.stringify(plans)}${i < pkgs.length - 1 ? ',' : ''}`),
  )
  if (pkgs.length) lines.push('  }')
  lines.push('}')
  return `${lines.join('\n')}\n`
}

/** Reads and checks a map; errors name the file. Undefined when there is none. */
export async function readImpactMap(file: string): Promise<ImpactMap | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw new ImpactMapError(`${file}:1:1 not JSON: ${(error as Error).message}`)
  }
  const map = doc as Partial<ImpactMap>
  if (map?.schemaVersion !== 1 || typeof map.files !== 'object' || map.files === null)
    throw new ImpactMapError(
      `${file}:1:1 not an impact map (schemaVersion 1 with files); record one with vigil impact record`,
    )
  for (const [name, entry] of Object.entries(map.files))
    if (!Array.isArray(entry?.functions) || typeof entry.sha256 !== 'string')
      throw new ImpactMapError(`${file}:1:1 files["${name}"]: expected { sha256, functions: [...] }`)
  return { packages: {}, plans: [], attribution: '', ...map } as ImpactMap
}

export class ImpactMapError extends CodedError {
  constructor(message: string) {
    super('VIGIL_IMPACT_MAP', message)
  }
}

export interface ImpactMatch {
  /** Plans the map selects, with reasons; sorted by name. */
  selected: SelectedPlan[]
  /** Changed code files the map has never seen (not prose, not a manifest). */
  uncoveredFiles: string[]
  /** Changed lines of known files inside no recorded function: `file:first-last`. */
  uncoveredLines: string[]
  /** Files whose recorded hash does not match the file as it is now, or that could not be checked. */
  stale: string[]
  notes: string[]
}

const NOT_CODE =
  /\.(md|markdown|mdx|txt|rst|adoc|json|ya?ml|lock|toml|ini|cfg|png|jpe?g|gif|svg|ico)$|(^|\/)(LICENSE|CHANGELOG|\.[^/]+)$/i
const MANIFEST = /(^|\/)package\.json$/

/**
 * The plans a diff selects through the map. `root` is the folder the diff's paths are relative to; each
 * changed file's current content is hashed to check the map is not stale for it.
 */
export async function matchImpact(map: ImpactMap, diff: ParsedDiff, root: string): Promise<ImpactMatch> {
  const reasons = new Map<string, string>()
  const add = (plan: string, reason: string) => {
    if (!reasons.has(plan)) reasons.set(plan, reason)
  }
  const out: ImpactMatch = { selected: [], uncoveredFiles: [], uncoveredLines: [], stale: [], notes: [] }
  const unplaced = new Set<string>()
  for (const file of diff.files) {
    if (file.outside) continue
    const key = map.files[file.oldPath ?? file.path] ? (file.oldPath ?? file.path) : file.path
    const entry = map.files[key]
    if (MANIFEST.test(file.path)) {
      for (const name of changedPackages(file.hunks.flatMap((h) => h.lines))) {
        const plans = map.packages[name] ?? []
        // A package every recorded plan runs (the web framework) cannot narrow anything: rules decide.
        if (map.plans.length > 1 && plans.length >= map.plans.length) {
          out.notes.push(`package ${name} is run by every plan: the impact map does not narrow it`)
          continue
        }
        for (const plan of plans) add(plan, `impact map: runs package ${name} (${file.path})`)
      }
      continue
    }
    if (!entry) {
      if (!NOT_CODE.test(file.path) && !file.binary) out.uncoveredFiles.push(file.path)
      continue
    }
    const current = await readFile(path.join(root, key)).catch(() => undefined)
    const recordedLines = entry.lines?.split(' ')
    // Fresh when the file is as recorded, or when the diff's old side is, line for line: the folder then
    // holds the change itself (a committed change checked against its base, as `vigil ci` does).
    const fresh =
      (current && createHash('sha256').update(current).digest('hex') === entry.sha256) ||
      (!!recordedLines && file.hunks.length > 0 && file.hunks.every((h) => inPlace(h, recordedLines)))
    if (!fresh) {
      // Line numbers cannot be trusted. Each hunk is placed in the recorded file by its old-side lines; a
      // hunk that cannot be placed is matched by the recorded functions it names (their declaration or a
      // call in its lines), else by the whole file.
      out.stale.push(key)
      const recorded = recordedLines
      for (const hunk of file.hunks) {
        const offset = recorded ? placeHunk(hunk, recorded) : undefined
        if (offset !== undefined) {
          for (const [first, last] of changedOldLines([hunk])) {
            const [a, b] = [first + offset, last + offset]
            const hit = innermost(entry.functions, a, b)
            if (!hit.length) out.uncoveredLines.push(`${key}:${a}-${b}`)
            for (const fn of hit)
              for (const plan of fn.plans)
                add(
                  plan,
                  `impact map (stale for ${key}: hunk placed by its lines): ${fn.name} (${fn.lines.join('-')})`,
                )
          }
          continue
        }
        const words = new Set(`${hunk.header} ${hunk.lines.join('\n')}`.split(/[^\w$]+/))
        const named = entry.functions.filter((fn) => fn.name !== '(anonymous)' && words.has(fn.name))
        if (named.length) {
          for (const fn of named)
            for (const plan of fn.plans)
              add(plan, `impact map (stale for ${key}: matched by name): ${fn.name}`)
          continue
        }
        // The whole file, when that still narrows the choice: a file most recorded plans run says nothing
        // about which of them this hunk needs, and is left to the other layers (as a package every plan
        // runs is), said in the notes.
        const filePlans = [...new Set(entry.functions.flatMap((fn) => fn.plans))]
        if (map.plans.length > 1 && filePlans.length * 2 > map.plans.length) {
          unplaced.add(key)
          continue
        }
        for (const fn of entry.functions)
          for (const plan of fn.plans) add(plan, `impact map (stale for ${key}: matched by file): ${fn.name}`)
      }
      continue
    }
    // Lines of the old side: the map describes the file before the change.
    for (const [first, last] of changedOldLines(file.hunks)) {
      const hit = innermost(entry.functions, first, last)
      if (!hit.length) out.uncoveredLines.push(`${key}:${first}-${last}`)
      for (const fn of hit)
        for (const plan of fn.plans)
          add(plan, `impact map: ${key}:${first} is in ${fn.name} (${fn.lines.join('-')})`)
    }
  }
  if (out.stale.length)
    out.notes.push(
      `the impact map is stale for ${out.stale.length} file(s) (${out.stale.slice(0, 3).join(', ')}${out.stale.length > 3 ? ', …' : ''}): hunks placed by their lines where they can be, else matched by name or by file; re-record with vigil impact record`,
    )
  if (unplaced.size)
    out.notes.push(
      `hunks of ${[...unplaced].join(', ')} could not be placed in the stale map, and most recorded plans run those files: the map does not narrow them`,
    )
  out.selected = [...reasons.entries()]
    .filter(([plan]) => map.plans.length === 0 || map.plans.includes(plan))
    .map(([name, reason]) => ({ name, source: 'impact' as const, reason }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return out
}

/** Fewest non-blank lines of a hunk that must match, in order, for it to be placed. */
const MIN_ANCHOR_LINES = 3

/** The hunk's old side (context and removed lines): each line's number and the recorded form of its text. */
function oldSide(
  hunk: ParsedDiff['files'][number]['hunks'][number],
): Array<{ line: number; hash: string }> | undefined {
  const m = /^@@ -(\d+)/.exec(hunk.header)
  if (!m) return undefined
  const old: Array<{ line: number; hash: string }> = []
  let line = Number(m[1])
  for (const text of hunk.lines) {
    if (text[0] !== ' ' && text[0] !== '-') continue
    const t = text.slice(1).trim()
    old.push({ line, hash: t ? createHash('sha256').update(t).digest('hex').slice(0, 4) : '-' })
    line++
  }
  return old
}

/** True when every line of the hunk's old side is the recorded line at its own number. */
function inPlace(hunk: ParsedDiff['files'][number]['hunks'][number], recorded: readonly string[]): boolean {
  const old = oldSide(hunk)
  return !!old && old.length > 0 && old.every((r) => recorded[r.line - 1] === r.hash)
}

/**
 * Where a hunk's old side sits in the recorded file, as an offset to add to its old line numbers; undefined
 * when it cannot be placed with confidence. The old side (context and removed lines) is looked for whole
 * first; else its longest run of consecutive lines that occurs exactly once in the recorded file, of at
 * least {@link MIN_ANCHOR_LINES} non-blank lines, places it.
 */
export function placeHunk(
  hunk: ParsedDiff['files'][number]['hunks'][number],
  recorded: readonly string[],
): number | undefined {
  const old = oldSide(hunk)
  if (!old) return undefined
  // Runs of the old side, longest first; the first run found exactly once places the hunk.
  // A unique run of a dozen lines is as sure as the whole hunk; longer ones only cost time.
  const whole =
    old.length >= MIN_ANCHOR_LINES
      ? occurrences(
          recorded,
          old.map((r) => r.hash),
        )
      : []
  if (whole.length === 1) return whole[0]! + 1 - old[0]!.line
  for (let len = Math.min(old.length - 1, 12); len >= MIN_ANCHOR_LINES; len--) {
    for (let from = 0; from + len <= old.length; from++) {
      const run = old.slice(from, from + len)
      if (run.filter((r) => r.hash !== '-').length < MIN_ANCHOR_LINES) continue
      const at = occurrences(
        recorded,
        run.map((r) => r.hash),
      )
      if (at.length === 1) return at[0]! + 1 - run[0]!.line
    }
  }
  return undefined
}

/** 0-based indexes where `needle` occurs in `haystack`; stops after two. */
function occurrences(haystack: readonly string[], needle: readonly string[]): number[] {
  const found: number[] = []
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    found.push(i)
    if (found.length > 1) break
  }
  return found
}

/**
 * The recorded functions a changed range lies in. A line inside a nested function runs only when that
 * function runs, so when a function holds the whole range, its enclosing functions are not counted for it;
 * a range that crosses a function's boundary counts every function it touches.
 */
export function innermost(
  functions: readonly ImpactFunction[],
  first: number,
  last: number,
): ImpactFunction[] {
  const hit = functions.filter((fn) => fn.lines[0] <= last && fn.lines[1] >= first)
  const holds = (fn: ImpactFunction) => fn.lines[0] <= first && fn.lines[1] >= last
  const inside = (a: ImpactFunction, b: ImpactFunction) =>
    a !== b &&
    b.lines[0] <= a.lines[0] &&
    a.lines[1] <= b.lines[1] &&
    (a.lines[0] !== b.lines[0] || a.lines[1] !== b.lines[1])
  return hit.filter((fn) => !(holds(fn) && hit.some((other) => holds(other) && inside(other, fn))))
}

/**
 * Old-side line ranges a hunk changes: removed lines, and for a pure insertion the lines around it (the
 * code it lands in).
 */
export function changedOldLines(hunks: ParsedDiff['files'][number]['hunks']): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  for (const hunk of hunks) {
    const m = /^@@ -(\d+)(?:,\d+)? /.exec(hunk.header)
    if (!m) continue
    let line = Number(m[1])
    let start: number | undefined
    let end = 0
    const close = () => {
      if (start !== undefined) ranges.push([start, Math.max(start, end)])
      start = undefined
    }
    for (const text of hunk.lines) {
      const c = text[0]
      if (c === '-') {
        start ??= line
        end = line
        line++
      } else if (c === '+') {
        // A pure insertion sits between line-1 and line; after removed lines it replaces them.
        if (start === undefined) {
          start = Math.max(1, line - 1)
          end = line
        }
      } else if (c === ' ') {
        close()
        line++
      }
    }
    close()
  }
  return ranges
}

/** Package names on the changed lines of a package.json (`"name": "version"`). */
function changedPackages(lines: string[]): Set<string> {
  const names = new Set<string>()
  for (const line of lines) {
    if (line[0] !== '+' && line[0] !== '-') continue
    const m = /^\s*"((?:@[\w.-]+\/)?[\w.-]+)"\s*:\s*"[~^<>=*\dvx.\s|-]*[\dx*][^"]*"/.exec(line.slice(1))
    if (m && m[1] !== 'version') names.add(m[1]!)
  }
  return names
}
