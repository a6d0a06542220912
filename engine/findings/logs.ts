/**
 * The services' own log lines for a finding: what each service of the sandbox that answered wrote between
 * the request's start and its end (plus a short grace, since a service may log after it answered), bounded
 * in count and size. Checks run at once and share the services, so a time window can hold another
 * request's lines; the evidence says it was attributed by time. When the config names a request id header,
 * lines that carry the request's id are taken instead, wherever they fall (attributed by request id), with
 * the lines of the window that carry no id vigil generated (the rest of a stack trace).
 */
import type { Evidence, EvidenceLogs, Finding } from '../verdict.js'

/** Log lines as a sandbox renders them: `2025-01-31T12:00:00.000Z stderr text`. */
export interface LogSource {
  readonly services: Readonly<Record<string, unknown>>
  logs(service?: string): string[]
}

export interface LogAttributionOptions {
  /** Milliseconds after a request's end whose lines still count. @default 100 */
  graceMs?: number
  /** Lines kept per service and finding. @default 20 */
  maxLines?: number
  /** Characters kept per line. @default 500 */
  maxLineChars?: number
  /** Characters kept per finding, all services together. @default 8000 */
  maxChars?: number
}

/** The shape of the request ids vigil generates (engine/http/client.ts). */
const VIGIL_ID = /^vigil-[0-9a-f]{16}$/

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /

/** An ISO 8601 time at the start of a service's own text (`2025-01-31T12:00:00.123Z GET /x`, `[2025-…]`). */
const OWN_STAMP = /^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))/

/**
 * When a rendered line was written: the service's own time stamp when its text starts with one (pipes
 * deliver late on a busy machine), else when vigil received it; undefined for a line without a stamp.
 */
function lineTime(line: string): number | undefined {
  const match = STAMP.exec(line)
  if (!match) return undefined
  const arrived = Date.parse(match[1]!)
  const text = line.slice(match[0].length).replace(/^\S+ /, '')
  const own = OWN_STAMP.exec(text)
  const written = own ? Date.parse(own[1]!.replace(' ', 'T')) : NaN
  // A service's clock is this machine's: a stamp after the arrival, or far before it, is not a write time.
  return Number.isFinite(written) && written <= arrived + 5 && written >= arrived - 60_000 ? written : arrived
}

/** The latest moment any finding's window ends, grace included (ms since the epoch), or undefined. */
export function lastWindowEnd(findings: readonly Finding[], graceMs: number): number | undefined {
  let last: number | undefined
  for (const f of findings) {
    const end = f.evidence?.window ? Date.parse(f.evidence.window.end) : NaN
    if (Number.isFinite(end)) last = Math.max(last ?? 0, end + graceMs)
  }
  return last
}

/** The lines of `sandbox` that belong to `evidence`, or undefined when there are none. */
export function logsFor(
  evidence: Evidence,
  sandbox: LogSource,
  options: LogAttributionOptions = {},
): EvidenceLogs | undefined {
  const window = evidence.window
  if (!window) return undefined
  const start = Date.parse(window.start)
  const end = Date.parse(window.end) + (options.graceMs ?? 100)
  const maxLines = options.maxLines ?? 20
  const maxLineChars = options.maxLineChars ?? 500
  let budget = options.maxChars ?? 8000
  const all = Object.keys(sandbox.services)
    .sort()
    .map((service) => ({ service, lines: sandbox.logs(service) }))
  const inWindow = (line: string) => {
    const t = lineTime(line)
    return t !== undefined && t >= start && t <= end
  }
  const id = window.requestId
  // Ids vigil generates have one shape, so a line of the window that carries none of them (the rest of a
  // stack trace) is this request's too, and a line that carries another one is not.
  const anyVigilId = id && VIGIL_ID.test(id) ? /vigil-[0-9a-f]{16}/ : undefined
  const byId = id
    ? all.map((s) => ({
        ...s,
        lines: s.lines.filter((l) => l.includes(id) || (anyVigilId && inWindow(l) && !anyVigilId.test(l))),
      }))
    : []
  const correlated = all.some((s) => s.lines.some((l) => id !== undefined && l.includes(id)))
  const chosen = correlated ? byId : all.map((s) => ({ ...s, lines: s.lines.filter(inWindow) }))
  const services: Record<string, string[]> = {}
  let omitted = 0
  for (const { service, lines } of chosen) {
    if (lines.length === 0) continue
    const kept: string[] = []
    for (const line of lines) {
      const cut = line.length > maxLineChars ? `${line.slice(0, maxLineChars)}… (line cut)` : line
      if (kept.length >= maxLines || cut.length > budget) {
        omitted++
        continue
      }
      budget -= cut.length
      kept.push(cut)
    }
    if (kept.length) services[service] = kept
  }
  if (Object.keys(services).length === 0) return undefined
  const out: EvidenceLogs = { attribution: correlated ? 'request-id' : 'time-window', services }
  if (omitted > 0) out.omitted = omitted
  return out
}
