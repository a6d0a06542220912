/**
 * Plan coverage: what no plan exercises. Two sources, each said for what it is:
 * - code, from the impact map (`vigil.impact.json`): a changed file the map never saw, and changed lines
 *   inside no function a plan ran (named by the hunk's function context when git gave one);
 * - API operations, from the OpenAPI documents the plans name, the `--api` files and those found under the
 *   config's folder: an operation no plan requests (a `request:` anywhere in a check block, matched by
 *   method and path template, on the document's service) and no block generates requests from (an
 *   `openapi:` block without requests of its own, e.g. adversarial, through its operation filters).
 *   AsyncAPI channels are read only from documents a plan or `--api` names: a channel no check names.
 * An operation or channel is "touched" by a change when the change edits its part of the document, or a
 * changed line holds its path (a route).
 */
import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { LoadedConfig } from '../../plans/config.js'
import type { Plan } from '../../plans/types.js'
import type { ImpactMatch, ParsedDiff, SelectionRecord } from '../../selectors/index.js'
import { loadPlansForRun } from './load-plans.js'
import { loadOpenApi, selectOperations } from '../api/documents/openapi.js'
import type { OpenApiDocument, OpenApiOperation } from '../api/documents/openapi.js'

export interface UncoveredCode {
  file: string
  /** Old-side lines, inclusive; absent for a whole file. */
  lines?: [number, number]
  /** The enclosing function as git's hunk header names it, when it does. */
  function?: string
}

export interface ApiItem {
  /** Document path relative to the config folder. */
  document: string
  service?: string
  /** `GET /orders/{orderId}`, or the channel's name. */
  name: string
  /** `operationId`, when the document gives one. */
  id?: string
  touched: boolean
}

export interface CoverageReport {
  /** Whether an impact map was read: without one, code coverage is unknown (not "all covered"). */
  impact: { commit?: string; stale: string[] } | undefined
  code: UncoveredCode[]
  operations: { documents: string[]; total: number; uncovered: ApiItem[] }
  channels: { documents: string[]; total: number; uncovered: ApiItem[] }
  notes: string[]
}

export interface CoverageInput {
  loaded: LoadedConfig
  plans: readonly Plan[]
  diff?: ParsedDiff
  /** What the impact map says of `diff` (selectors `matchImpact`), or a selection record's `impact`. */
  impact?: Pick<ImpactMatch, 'uncoveredFiles' | 'uncoveredLines' | 'stale'> & { commit?: string }
  /** API documents named on the command line, relative to `cwd`. */
  apis?: readonly string[]
  cwd?: string
}

const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', 'coverage'])
const MAX_DEPTH = 4

export async function planCoverage(input: CoverageInput): Promise<CoverageReport> {
  const { loaded, plans, diff } = input
  const root = loaded.dir
  const rel = (file: string) => path.relative(root, file).split(path.sep).join('/')
  const notes: string[] = []
  const uses = collectUses(plans, defaultService(loaded))
  const named = (input.apis ?? []).map((f) => path.resolve(input.cwd ?? process.cwd(), f))
  const openapiFiles = new Set([...uses.openapi.keys(), ...named.filter((f) => isApi(f, 'openapi'))])
  for (const found of await findOpenApi(root)) openapiFiles.add(found)
  const asyncapiFiles = new Set([...uses.asyncapi, ...named.filter((f) => isApi(f, 'asyncapi'))])
  const services = Object.keys(loaded.config.sandbox?.services ?? {})

  const operations: CoverageReport['operations'] = { documents: [], total: 0, uncovered: [] }
  for (const file of [...openapiFiles].sort()) {
    let doc: OpenApiDocument
    try {
      doc = await loadOpenApi(file, rel(file))
    } catch (error) {
      notes.push(`${rel(file)}: skipped: ${(error as Error).message}`)
      continue
    }
    operations.documents.push(rel(file))
    const service = uses.openapi.get(file) ?? serviceOf(file, services)
    const generated = uses.generated.get(file) ?? []
    const exercised = new Set<string>()
    for (const filter of generated)
      for (const op of safeSelect(doc, filter, notes)) exercised.add(`${op.method} ${op.path}`)
    for (const op of doc.operations) {
      operations.total++
      const key = `${op.method} ${op.path}`
      const requested = uses.requests.some(
        (r) =>
          r.method === op.method.toUpperCase() &&
          (!service || !r.service || r.service === service) &&
          r.matches(op, doc),
      )
      if (requested || exercised.has(key)) continue
      operations.uncovered.push({
        document: rel(file),
        ...(service ? { service } : {}),
        name: key,
        ...(op.id !== key ? { id: op.id } : {}),
        touched: diff ? touchesOperation(diff, rel(file), op.path, await linesOf(file)) : false,
      })
    }
  }

  const channels: CoverageReport['channels'] = { documents: [], total: 0, uncovered: [] }
  for (const file of [...asyncapiFiles].sort()) {
    const doc = await readFile(file, 'utf8')
      .then((text) => parseYaml(text) as Record<string, unknown>)
      .catch((error: Error) => {
        notes.push(`${rel(file)}: skipped: ${error.message}`)
        return undefined
      })
    if (!doc || typeof doc.asyncapi !== 'string') continue
    channels.documents.push(rel(file))
    for (const [key, channel] of Object.entries((doc.channels ?? {}) as Record<string, unknown>)) {
      const address = (channel as { address?: unknown } | null)?.address
      const names = [key, ...(typeof address === 'string' ? [address] : [])]
      channels.total++
      if (names.some((n) => uses.channels.has(n))) continue
      const shown = typeof address === 'string' ? address : key
      channels.uncovered.push({
        document: rel(file),
        name: shown,
        touched: diff
          ? touchesOperation(diff, rel(file), key, await linesOf(file)) ||
            touchesOperation(diff, rel(file), shown, await linesOf(file))
          : false,
      })
    }
  }

  const code: UncoveredCode[] = []
  if (input.impact) {
    for (const file of input.impact.uncoveredFiles) code.push({ file })
    for (const entry of input.impact.uncoveredLines) {
      const m = /^(.*):(\d+)-(\d+)$/.exec(entry)
      if (!m) continue
      const lines: [number, number] = [Number(m[2]), Number(m[3])]
      const fn = diff ? hunkFunction(diff, m[1]!, lines[0]) : undefined
      code.push({ file: m[1]!, lines, ...(fn ? { function: fn } : {}) })
    }
  } else if (diff)
    notes.push('no impact map: which changed code no plan runs is unknown (vigil impact record)')
  return {
    impact: input.impact
      ? { ...(input.impact.commit ? { commit: input.impact.commit } : {}), stale: input.impact.stale }
      : undefined,
    code,
    operations,
    channels,
    notes,
  }
}

/**
 * The coverage line of a selection, for `vigil ci` and the MCP `select_plans` tool: the record's impact
 * lists and the API operations the change touches that no plan requests. Never throws: coverage is advice,
 * and a document it cannot read must not stop a run.
 */
export async function selectionCoverage(
  loaded: LoadedConfig,
  diff: ParsedDiff,
  record: SelectionRecord,
  cwd: string,
): Promise<string | undefined> {
  try {
    const catalog = await loadPlansForRun(loaded, undefined, cwd)
    const report = await planCoverage({
      loaded,
      plans: catalog.plans,
      diff,
      ...(record.impact ? { impact: record.impact } : {}),
      cwd,
    })
    return coverageSummary(report)
  } catch (error) {
    return `coverage could not be worked out: ${(error as Error).message}`
  }
}

/** The line CI and the MCP tool print, or undefined when the change touches nothing uncovered. */
export function coverageSummary(report: CoverageReport): string | undefined {
  const items = [
    ...report.code.map(codeText),
    ...report.operations.uncovered.filter((o) => o.touched).map((o) => `${apiText(o)} (no plan requests it)`),
    ...report.channels.uncovered
      .filter((c) => c.touched)
      .map((c) => `channel ${apiText(c)} (no check names it)`),
  ]
  if (!items.length) return undefined
  const shown = items.slice(0, 8).join('; ')
  return `this change touches code no plan covers: ${shown}${items.length > 8 ? `; and ${items.length - 8} more` : ''}`
}

/**
 * What a plan could be written for, one line each: with a change, its code no plan runs and the operations
 * and channels it touches that no plan exercises; without one, every operation and channel no plan exercises.
 */
export function coverageTargets(report: CoverageReport, withChange: boolean): string[] {
  const api = (items: readonly ApiItem[], prefix: string) =>
    items.filter((i) => !withChange || i.touched).map((i) => `${prefix}${apiText(i)}`)
  return [
    ...(withChange ? report.code.map(codeText) : []),
    ...api(report.operations.uncovered, ''),
    ...api(report.channels.uncovered, 'channel '),
  ]
}

export function renderCoverage(report: CoverageReport, withChange: boolean): string {
  const out: string[] = []
  if (withChange) {
    if (!report.impact)
      out.push('Changed code: unknown without an impact map (record one: vigil impact record).')
    else if (!report.code.length) out.push('Changed code: every changed line is in code some plan runs.')
    else {
      out.push(`Changed code no plan runs (${report.code.length}):`)
      for (const c of report.code) out.push(`  ${codeText(c)}`)
    }
    if (report.impact?.stale.length)
      out.push(`  note: the impact map is stale for ${report.impact.stale.join(', ')} (re-record it)`)
    out.push('')
  }
  const ops = report.operations
  out.push(
    ops.documents.length
      ? `API operations no plan exercises: ${ops.uncovered.length} of ${ops.total} (${ops.documents.join(', ')})`
      : 'API operations: no OpenAPI document found (name one with --api FILE).',
  )
  for (const o of ops.uncovered) out.push(`  ${apiText(o)}${o.touched ? '  ← touched by this change' : ''}`)
  const ch = report.channels
  if (ch.documents.length) {
    out.push(`Channels no check names: ${ch.uncovered.length} of ${ch.total} (${ch.documents.join(', ')})`)
    for (const c of ch.uncovered) out.push(`  ${apiText(c)}${c.touched ? '  ← touched by this change' : ''}`)
  }
  for (const n of report.notes) out.push(`note: ${n}`)
  const summary = withChange ? coverageSummary(report) : undefined
  if (withChange)
    out.push(
      '',
      summary
        ? `${summary[0]!.toUpperCase()}${summary.slice(1)}.`
        : 'This change touches no code or API that no plan covers.',
    )
  return `${out.join('\n')}\n`
}

function codeText(c: UncoveredCode): string {
  if (!c.lines) return `${c.file} (a file no plan ran)`
  return `${c.file}:${c.lines[0]}-${c.lines[1]}${c.function ? ` in ${c.function}` : ''}`
}

function apiText(item: ApiItem): string {
  const who = item.service ? `${item.service} ` : ''
  return `${who}${item.name}${item.id ? ` (${item.id})` : ''} — ${item.document}`
}

function defaultService(loaded: LoadedConfig): string | undefined {
  const sandbox = loaded.config.sandbox
  if (sandbox?.default) return sandbox.default
  const names = Object.keys(sandbox?.services ?? {})
  return names.length === 1 ? names[0] : undefined
}

/** A document's service: named beside it in a plan, else a service whose name is its file or folder name. */
function serviceOf(file: string, services: readonly string[]): string | undefined {
  const base = path.basename(file).replace(/(\.openapi)?\.(ya?ml|json)$/i, '')
  const folder = path.basename(path.dirname(file))
  return services.find((s) => s === base) ?? services.find((s) => s === folder)
}

interface PlanRequest {
  method: string
  service?: string
  matches(op: OpenApiOperation, doc: OpenApiDocument): boolean
}

interface Uses {
  requests: PlanRequest[]
  /** Documents a block names, with the service of that block when it has one. */
  openapi: Map<string, string | undefined>
  /** Operation filters of blocks that generate requests from a document (no requests of their own). */
  generated: Map<string, Array<{ operations?: string[]; tags?: string[]; paths?: string[] }>>
  asyncapi: Set<string>
  channels: Set<string>
}

const CHANNEL_KEYS = new Set(['channel', 'channels', 'subject', 'topic', 'queue', 'exchange', 'routingKey'])

/** Walks every check block's parameters, whatever its kind: requests, documents, channel names. */
function collectUses(plans: readonly Plan[], fallback: string | undefined): Uses {
  const uses: Uses = {
    requests: [],
    openapi: new Map(),
    generated: new Map(),
    asyncapi: new Set(),
    channels: new Set(),
  }
  const walk = (node: unknown, service: string | undefined, dir: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, service, dir))
    if (!node || typeof node !== 'object') return
    const obj = node as Record<string, unknown>
    const svc = typeof obj.service === 'string' ? obj.service : service
    if (obj.request !== undefined) {
      const r = requestOf(obj.request, svc)
      if (r) uses.requests.push(r)
    }
    if (typeof obj.openapi === 'string') {
      const file = path.resolve(dir, obj.openapi)
      if (!uses.openapi.has(file) || typeof obj.service === 'string')
        uses.openapi.set(file, obj.service as string | undefined)
      if (obj.request === undefined && obj.requests === undefined && obj.steps === undefined) {
        const list = (k: string) => (Array.isArray(obj[k]) ? (obj[k] as unknown[]).map(String) : undefined)
        const filter = { operations: list('operations'), tags: list('tags'), paths: list('paths') }
        const clean = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined))
        ;(uses.generated.get(file) ?? uses.generated.set(file, []).get(file)!).push(clean)
      }
    }
    if (typeof obj.asyncapi === 'string') uses.asyncapi.add(path.resolve(dir, obj.asyncapi))
    for (const [key, value] of Object.entries(obj)) {
      if (CHANNEL_KEYS.has(key))
        for (const v of [value].flat()) if (typeof v === 'string') uses.channels.add(v)
      if (key !== 'request') walk(value, svc, dir)
    }
  }
  for (const plan of plans) for (const check of plan.checks) walk(check.params, fallback, plan.dir)
  return uses
}

/** `GET /orders/{{id}}?x=1` or `{ method, path }`: its method and a matcher of path templates. */
function requestOf(value: unknown, service: string | undefined): PlanRequest | undefined {
  let method: string | undefined
  let target: string | undefined
  if (typeof value === 'string') {
    const m = /^\s*([A-Za-z]+)\s+(\S+)/.exec(value)
    if (m) [method, target] = [m[1]!, m[2]!]
  } else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>
    if (typeof o.path === 'string')
      [method, target] = [typeof o.method === 'string' ? o.method : 'GET', o.path]
  }
  if (!method || !target) return undefined
  const segments = target.split(/[?#]/)[0]!.split('/')
  return {
    method: method.toUpperCase(),
    ...(service ? { service } : {}),
    matches(op, doc) {
      if (!templateMatches(op.path, segments)) return false
      // A literal path segment wins over a template parameter, as in OpenAPI's own matching.
      const static_ = doc.operations.find(
        (o) =>
          o.method === op.method && o !== op && !o.path.includes('{') && templateMatches(o.path, segments),
      )
      return !static_ || static_ === op
    },
  }
}

function templateMatches(template: string, segments: readonly string[]): boolean {
  const parts = template.split('/')
  if (parts.length !== segments.length) return false
  return parts.every((p, i) => {
    const s = segments[i]!
    return p === s || /^\{[^}]+\}$/.test(p) || (s.includes('{{') && /\{/.test(p))
  })
}

function safeSelect(doc: OpenApiDocument, filter: Parameters<typeof selectOperations>[1], notes: string[]) {
  try {
    return selectOperations(doc, filter)
  } catch (error) {
    notes.push((error as Error).message)
    return []
  }
}

function isApi(file: string, kind: 'openapi' | 'asyncapi'): boolean {
  // The kind is decided when the file is read; a name is enough to try.
  return kind === 'openapi' ? !/asyncapi/i.test(path.basename(file)) : /asyncapi/i.test(path.basename(file))
}

const OPENAPI_HEAD = /^\s*["']?openapi["']?\s*:\s*["']?3\./m

/** OpenAPI 3 documents under the config folder (not in dot-folders or node_modules), a few levels deep. */
async function findOpenApi(root: string, depth = 0): Promise<string[]> {
  if (depth > MAX_DEPTH) return []
  const entries = await readdir(root, { withFileTypes: true }).catch(() => [])
  const out: string[] = []
  for (const e of entries) {
    if (e.name.startsWith('.')) continue
    const full = path.join(root, e.name)
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...(await findOpenApi(full, depth + 1)))
    } else if (/\.(ya?ml|json)$/i.test(e.name)) {
      const head = await readFile(full, 'utf8')
        .then((t) => t.slice(0, 4096))
        .catch(() => '')
      if (OPENAPI_HEAD.test(head)) out.push(full)
    }
  }
  return out
}

async function linesOf(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n')
}

/**
 * True when the diff edits the document inside the block of this path (its key line to the next key at the
 * same indentation), or a changed line elsewhere holds the path — `'/payments/authorize'`,
 * `/orders/:id`, `/orders/{id}` — as a route would.
 */
function touchesOperation(diff: ParsedDiff, document: string, name: string, doc: string[]): boolean {
  const template = name.replace(/^[A-Z]+ /, '')
  const literal = template.split('{')[0]!.replace(/\/$/, '')
  const params = template.includes('{')
  const route = new RegExp(`['"\`]${escape(literal)}${params ? '/(?:[:{]|\\$\\{)' : `['"\`]`}`)
  for (const file of diff.files) {
    const changed = file.hunks.flatMap((h) => h.lines.filter((l) => l[0] === '+' || l[0] === '-'))
    if (file.path === document) {
      const start = doc.findIndex((l) => new RegExp(`^\\s*["']?${escape(template)}["']?\\s*:`).test(l))
      if (start < 0) continue
      const indent = /^\s*/.exec(doc[start]!)![0].length
      let end = start + 1
      while (end < doc.length && (!doc[end]!.trim() || /^\s*/.exec(doc[end]!)![0].length > indent)) end++
      if (newLines(file).some((n) => n >= start + 1 && n <= end)) return true
      continue
    }
    if (literal && changed.some((l) => route.test(l))) return true
  }
  return false
}

/** New-side line numbers of added lines (and of the line after a removal). */
function newLines(file: ParsedDiff['files'][number]): number[] {
  const out: number[] = []
  for (const hunk of file.hunks) {
    const m = /^@@ -\d+(?:,\d+)? \+(\d+)/.exec(hunk.header)
    if (!m) continue
    let line = Number(m[1])
    for (const text of hunk.lines) {
      if (text[0] === '+') out.push(line++)
      else if (text[0] === '-') out.push(line)
      else if (text[0] === ' ') line++
    }
  }
  return out
}

/** The function context git put in the header of the hunk holding an old-side line. */
function hunkFunction(diff: ParsedDiff, file: string, line: number): string | undefined {
  const changed = diff.files.find((f) => (f.oldPath ?? f.path) === file || f.path === file)
  for (const hunk of changed?.hunks ?? []) {
    const m = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@ ?(.*)$/.exec(hunk.header)
    if (!m) continue
    const start = Number(m[1])
    const count = m[2] === undefined ? 1 : Number(m[2])
    if (line >= start - 1 && line <= start + count) {
      const context = m[3]!.trim()
      const name = /([A-Za-z_$][\w$]*)\s*(?:=\s*(?:async\s*)?(?:function\b|\()|\()/.exec(context)
      return name?.[1]
    }
  }
  return undefined
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
