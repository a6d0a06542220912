/** Text helpers shared by the renderers. All pure; none adds data that is not in the verdict. */
import type {
  CheckResult,
  Counts,
  EvidenceLogs,
  Finding,
  PlanResult,
  RunIdentity,
  ServiceCopy,
  ServiceResources,
  SideIdentity,
  Verdict,
} from '../engine/verdict.js'
import { formatSize } from '../plans/size.js'

/** `850ms`, `1.25s`, `12.3s`, `2m05s`, `1h02m` (the one elapsed-time format of every output). */
import { formatElapsed as formatDuration } from '../plans/duration.js'

export { formatDuration }

/** JUnit's `time`: seconds with millisecond precision. */
export function formatSeconds(ms: number): string {
  return (Math.max(0, Number.isFinite(ms) ? ms : 0) / 1000).toFixed(3)
}

/** The check's duration; skipped checks have none. */
export function checkDuration(result: CheckResult): number | undefined {
  return result.state === 'skipped' ? undefined : result.durationMs
}

/** The check's findings; skipped checks have none. */
export function findingsOf(result: CheckResult): Finding[] {
  return result.state === 'skipped' ? [] : result.findings
}

/** `plans/checkout.md:14:3`. */
export function formatLocation(location: { file: string; line?: number; column?: number }): string {
  let out = location.file
  if (location.line !== undefined) out += `:${location.line}`
  if (location.line !== undefined && location.column !== undefined) out += `:${location.column}`
  return out
}

/** A value as compact JSON on one line (strings quoted), cut to `max` characters. */
export function formatValue(value: unknown, max = 200): string {
  let text: string
  try {
    text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value))
  } catch {
    text = String(value)
  }
  return truncate(text, max)
}

/** Cuts text to `max` characters, saying how much was left out. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  return `${text.slice(0, max)}… (${text.length - max} more characters)`
}

/** Splits text into lines and keeps the first `max`, noting how many were left out. */
export function limitLines(text: string, max: number): string[] {
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n')
  if (lines.length <= max) return lines
  return [...lines.slice(0, max), `… (${lines.length - max} more lines)`]
}

/** Keeps the last `max` lines of a log tail (the end explains the failure), noting what was dropped. */
export function tailLines(lines: readonly string[], max: number): string[] {
  if (lines.length <= max) return [...lines]
  return [`… (${lines.length - max} earlier lines)`, ...lines.slice(-max)]
}

/** Plans sorted by name (stable), so final sections do not depend on completion order. */
export function sortedPlans(verdict: Verdict): PlanResult[] {
  return [...verdict.plans].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** The title of the section of failed checks that do not fail the run. */
export const WARNINGS_TITLE = 'Warnings (non-blocking plans and checks)'

/** A failed or errored check, and whether it only warns (its plan or the check is not blocking). */
export interface Problem {
  plan: PlanResult
  result: CheckResult & { state: 'failed' | 'errored' }
  /** True when the plan or the check is not blocking and the check failed: a warning, the verdict still passes. */
  warning: boolean
}

/** Every failed or errored check, plans by name, checks in plan order. */
export function problems(verdict: Verdict): Problem[] {
  const out: Problem[] = []
  for (const plan of sortedPlans(verdict)) {
    for (const result of plan.checks) {
      if (result.state !== 'failed' && result.state !== 'errored') continue
      const nonBlocking = !plan.blocking || result.blocking === false
      out.push({ plan, result, warning: nonBlocking && result.state === 'failed' })
    }
  }
  return out
}

/** Warning and info findings of checks that are not failed or errored (they do not appear elsewhere). */
export function notes(verdict: Verdict): Array<{ plan: PlanResult; result: CheckResult; finding: Finding }> {
  const out: Array<{ plan: PlanResult; result: CheckResult; finding: Finding }> = []
  for (const plan of sortedPlans(verdict)) {
    for (const result of plan.checks) {
      if (result.state !== 'passed') continue
      for (const finding of result.findings) out.push({ plan, result, finding })
    }
  }
  return out
}

/** Counts of one plan's checks by state. */
export function planCounts(plan: PlanResult): Omit<Counts, 'warned'> {
  const counts = { total: plan.checks.length, passed: 0, failed: 0, errored: 0, skipped: 0 }
  for (const check of plan.checks) counts[check.state] += 1
  return counts
}

/** `5 passed, 2 failed, 1 errored` (zero counts left out; `none` when all are zero). */
export function describeCounts(counts: Counts, noun: string): string {
  const parts: string[] = []
  for (const key of ['passed', 'failed', 'warned', 'errored', 'skipped'] as const) {
    if (counts[key] > 0) parts.push(`${counts[key]} ${key}`)
  }
  const total = `${counts.total} ${noun}${counts.total === 1 ? '' : 's'}`
  return parts.length > 0 ? `${total}: ${parts.join(', ')}` : total
}

/** The one-line verdict: `FAIL · 9 checks: 7 passed, 2 failed · 3 plans: … · 12.3s · exit 1`. */
export function verdictLine(verdict: Verdict): string {
  const parts = [
    verdict.status.toUpperCase(),
    describeCounts(verdict.summary.checks, 'check'),
    describeCounts(verdict.summary.plans, 'plan'),
  ]
  if (verdict.errors.length > 0) {
    parts.push(`${verdict.errors.length} run error${verdict.errors.length === 1 ? '' : 's'}`)
  }
  parts.push(formatDuration(verdict.durationMs), `exit ${verdict.exitCode}`)
  const line = parts.join(' · ') + (verdict.cancelled ? ' (cancelled: results are partial)' : '')
  const deferred = deferredNote(verdict)
  return deferred ? `${line} (${deferred})` : line
}

/**
 * `partial: 2 load checks deferred; --all runs them` for a warm session's verdict that left kinds out, else
 * undefined: every reporter says it, so a partial verdict is never read as a full one.
 */
export function deferredNote(verdict: Verdict): string | undefined {
  const session = verdict.session
  if (!session || session.complete) return undefined
  const kinds = session.deferred.filter((d) => d.checks > 0)
  const list = kinds.map((d) => `${d.checks} ${d.kind} check${d.checks === 1 ? '' : 's'}`).join(', ')
  return `partial: ${list || 'checks'} deferred; --all runs them`
}

/** `expected 201, got 500` style facts of a finding, as label/value pairs (absent ones left out). */
export function findingFacts(finding: Finding, maxValue = 200): Array<[label: string, value: string]> {
  const facts: Array<[string, string]> = []
  if (finding.id !== undefined) facts.push(['id', finding.id])
  if (finding.step !== undefined) facts.push(['step', finding.step])
  if (finding.pointer !== undefined) facts.push(['at', shownPointer(finding.pointer)])
  if (finding.expected !== undefined) facts.push(['expected', formatValue(finding.expected, maxValue)])
  if (finding.actual !== undefined) facts.push(['actual', formatValue(finding.actual, maxValue)])
  if (finding.partial) facts.push(['partial', 'its comparison was cut short by its deadline'])
  // The evidence says what it shows in its own lines, whatever its transport: no reporter knows one.
  const evidence = finding.evidence
  for (const line of evidence?.summary ?? []) facts.push([line.label, line.value])
  const repeats = finding.repeats
  if (repeats) {
    facts.push(['repeats', `${repeats.count} times in all; merged into this one`])
    for (const example of repeats.examples) {
      const where = example.step !== undefined ? `${example.step}: ` : ''
      facts.push(['also', truncate(`${where}${example.message} (${example.id})`, maxValue * 2)])
    }
  }
  return facts
}

/** Deeper than this, a value of the details is shown as compact JSON on its line. */
const DETAILS_DEPTH = 6

/**
 * A finding's free-form details (`evidence.details`) as text for people rather than escaped JSON: one
 * `key: value` line per scalar, strings as written, nested mappings indented, lists of plain values on one
 * line and other lists as `- ` items, text of several lines below its key; keys sorted, each line cut to
 * `maxChars`, at most `maxLines` lines (saying how many more there were). Empty when there are none.
 */
export function detailsLines(finding: Pick<Finding, 'evidence'>, maxLines = 30, maxChars = 200): string[] {
  const details = finding.evidence?.details
  if (!details || Object.keys(details).length === 0) return []
  const lines: string[] = []
  const walk = (value: unknown, indent: string, head: string, depth: number): void => {
    if (typeof value === 'string' && value.includes('\n')) {
      lines.push(`${indent}${head}|`)
      for (const line of value.replace(/\n$/, '').split('\n')) lines.push(`${indent}  ${line}`)
    } else if (value === null || typeof value !== 'object') {
      lines.push(`${indent}${head}${plainValue(value)}`)
    } else if (Object.keys(value).length === 0) {
      lines.push(`${indent}${head}${Array.isArray(value) ? '[]' : '{}'}`)
    } else if (depth >= DETAILS_DEPTH) {
      lines.push(`${indent}${head}${JSON.stringify(value)}`)
    } else if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
      lines.push(`${indent}${head}[${value.map((v) => plainValue(v, true)).join(', ')}]`)
    } else if (Array.isArray(value)) {
      if (head !== '') lines.push(`${indent}${head.trimEnd()}`)
      const inner = head === '' ? indent : `${indent}  `
      for (const item of value) walk(item, inner, '- ', depth + 1)
    } else {
      const item = head === '- '
      if (head !== '' && !item) lines.push(`${indent}${head.trimEnd()}`)
      const inner = head === '' ? indent : `${indent}  `
      const start = lines.length
      for (const [key, child] of Object.entries(value)) walk(child, inner, `${key}: `, depth + 1)
      // A mapping that is a list item starts on the item's line, as in YAML.
      if (item) lines[start] = `${indent}- ${lines[start]!.slice(inner.length)}`
    }
  }
  walk(sortKeys(details), '', '', 0)
  const cut = lines.map((line) => truncate(line, maxChars))
  if (cut.length <= maxLines) return cut
  return [...cut.slice(0, maxLines), `… (${cut.length - maxLines} more lines)`]
}

/** A scalar as it reads: strings as written (quoted inside a list when they would be ambiguous there). */
function plainValue(value: unknown, inList = false): string {
  if (typeof value !== 'string') return value === undefined ? 'undefined' : JSON.stringify(value)
  if (value === '' || (inList && /[,[\]"]|^\s|\s$/.test(value))) return JSON.stringify(value)
  return value
}

/** A finding's message, with how often it happened when repeats were merged into it: `… (×2000)`. */
export function findingMessage(finding: Pick<Finding, 'message' | 'repeats'>): string {
  return finding.repeats ? `${finding.message} (×${finding.repeats.count})` : finding.message
}

/** A JSON pointer as reports show it: the empty pointer (the whole document) as `(root)`. */
export function shownPointer(pointer: string): string {
  return pointer === '' || pointer === '/' ? '(root)' : pointer
}

/** `vigil reproduce <verdict.json> <id>`: the command that replays a finding after the run has ended. */
export function reproduceAfterRun(id: string, verdictPath?: string): string {
  if (verdictPath === undefined) return `vigil reproduce <verdict.json> ${id}`
  const file = /^[\w./@:+-]+$/.test(verdictPath) ? verdictPath : `'${verdictPath.replace(/'/g, `'\\''`)}'`
  return `vigil reproduce ${file} ${id}`
}

/** How a finding's log lines were attributed, as one line. */
export function logsTitle(logs: EvidenceLogs): string {
  const how =
    logs.attribution === 'request-id'
      ? 'lines carrying its request id'
      : "written during the request; other checks' lines may be among them"
  const omitted = logs.omitted ? `, ${logs.omitted} more left out` : ''
  return `service logs (${how}${omitted})`
}

/** A finding's log lines as `service | line`, services in name order. */
export function logsLines(logs: EvidenceLogs): string[] {
  return Object.keys(logs.services)
    .sort()
    .flatMap((service) => logs.services[service]!.map((line) => `${service} | ${line}`))
}

/** Where one side ran from, on one line: `patch x.patch (sha256 1a2b3c4d5e6f) on 01c37b3f, uncommitted changes`. */
export function sideSourceLine(side: SideIdentity): string {
  const s = side.source
  const commit = s.commit ? s.commit.slice(0, 12) : undefined
  const parts: string[] = []
  if (s.kind === 'ref') parts.push(`${s.ref ?? 'ref'}${commit ? ` at ${commit}` : ''}`)
  else if (s.kind === 'patch')
    parts.push(
      `patch ${s.patch ?? '?'}${s.patchSha256 ? ` (sha256 ${s.patchSha256.slice(0, 12)})` : ''}${commit ? ` on ${commit}` : ''}`,
    )
  else parts.push(`working tree${commit ? ` at ${commit}` : ''}`)
  if (s.dirty) parts[0] += ' with uncommitted changes'
  if (side.provider) parts.push(side.provider)
  if (s.overrides?.length) parts.push(`baseline overrides ${s.overrides.join(', ')}`)
  return parts.join(' · ')
}

/** Each service of a side, on one line: `orders: node orders/server.js · version 1.4.0 · orders@1.4.0`. */
export function sideServiceLines(side: SideIdentity): string[] {
  return Object.keys(side.services)
    .sort()
    .map((name) => {
      const b = side.services[name]!
      const parts = [b.image ?? b.command ?? b.url ?? '?']
      if (b.cwd && b.cwd !== '.') parts.push(`in ${b.cwd}`)
      if (b.prepare) parts.push(`prepared by ${b.prepare}`)
      if (b.version) parts.push(`version ${b.version}`)
      else if (b.versionError) parts.push(`version unknown (${b.versionError})`)
      if (b.package) parts.push(b.package)
      return `${name}: ${parts.join(' · ')}`
    })
}

/** The sides of a run's identity, candidate first. */
export function sidesOf(identity: RunIdentity): Array<[name: string, side: SideIdentity]> {
  const sides = identity.sides
  if (!sides) return []
  return [['candidate', sides.candidate] as [string, SideIdentity]].concat(
    sides.baseline ? [['baseline', sides.baseline]] : [],
  )
}

/** A copy with object keys sorted, so JSON renderings of free-form details are deterministic. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key])
  return out
}

// Control characters (but tab and newline) would be invisible, garble a page, or drive a terminal (ESC
// sequences can clear the screen or rewrite its title): they are shown as \uXXXX instead.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g

/** Control characters other than tab and newline as a visible `\uXXXX`; CRLF becomes a newline. */
export function visibleControls(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** A deep copy in which every string (keys too) has its control characters made visible. */
export function withVisibleControls<T>(value: T): T {
  if (typeof value === 'string') return visibleControls(value) as T
  if (Array.isArray(value)) return value.map(withVisibleControls) as T
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) out[visibleControls(key)] = withVisibleControls(child)
  return out as T
}

/** Bytes of a string in UTF-8. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** How a copy of a service is named in the resources table: `copy: plan › check`, `copy 2: …` for a later one. */
export function copyLabel(copy: ServiceCopy): string {
  return `copy${copy.nth ? ` ${copy.nth}` : ''}: ${copy.plan} › ${copy.check}`
}

/** One row of the resources table: a service, or a copy of it a check started, and its cells. */
export interface ResourceRow {
  service: string
  copy?: ServiceCopy
  cells: string[]
}

/**
 * The services' resources while the checks ran, one row per service and then one per copy a check started
 * (the same copy on both sides shares a row): peak RSS, CPU seconds and peak descriptors, each as
 * `candidate / baseline` (the sides in the verdict's order). Undefined when none was sampled.
 */
export function resourceRows(verdict: Verdict): { head: string[]; rows: ResourceRow[] } | undefined {
  const services = verdict.resources?.services ?? []
  if (services.length === 0) return undefined
  const sides = [...new Set(services.map((s) => s.side))]
  const rowKey = (s: ServiceResources) => JSON.stringify([s.service, s.copy ?? null])
  const rows = new Map<string, ServiceResources[]>()
  // The services first, then the copies in the order they started.
  for (const s of [...services.filter((s) => !s.copy), ...services.filter((s) => s.copy)]) {
    const row = rows.get(rowKey(s))
    if (row) row.push(s)
    else rows.set(rowKey(s), [s])
  }
  const cell = (row: readonly ServiceResources[], pick: (s: ServiceResources) => string) =>
    sides
      .map((side) => {
        const found = row.find((s) => s.side === side)
        return found ? pick(found) : '–'
      })
      .join(' / ')
  const per = sides.length > 1 ? ` (${sides.join(' / ')})` : ''
  return {
    head: ['service', `peak RSS${per}`, `CPU s${per}`, `fds${per}`],
    rows: [...rows.values()].map((row) => ({
      service: row[0]!.service,
      ...(row[0]!.copy ? { copy: row[0]!.copy } : {}),
      cells: [
        cell(row, (s) => formatSize(s.peak.rss)),
        cell(row, (s) => (s.cpuMs / 1000).toFixed(1)),
        cell(row, (s) => String(s.peak.fds)),
      ],
    })),
  }
}
