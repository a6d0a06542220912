/**
 * Steps that reach a sandbox's database as well as its services, shared by the `data` and `migration`
 * kinds: HTTP steps (request, expect status and JSON, capture) and `sql` steps whose `{{variables}}` are
 * bound as parameters (`$1`), never spliced into the text, run read-only unless `write: true`, with
 * `expect: { rows, json }` and captures from the rows. The first failing step stops the run on that side.
 */
import { CheckSkipped } from '../errors.js'
import { HttpNetworkError, type HttpExchange } from '../http/client.js'
import type { DependencyEndpoint } from '../clients/dependency-endpoint.js'
import { checkAssertion, formatValue } from './assertions.js'
import { evidence, exchangeEvidence, unansweredEvidence, type Evidence } from './evidence.js'
import type { CheckContext, ReportDescriptor, Variables } from './kind.js'
import { select } from './json-select.js'
import { sandboxRequest, type Sandbox } from './sandbox.js'
import { parseRequestLine } from './vocabulary.js'
import type { DataStep } from './data-steps-schema.js'

export {
  dataStepMessages,
  dataStepSchema,
  type DataHttpStep,
  type DataSqlStep,
  type DataStep,
} from './data-steps-schema.js'

export interface StepsContext {
  vars: Variables
  signal: AbortSignal
  clients: Pick<CheckContext<unknown, 'http' | 'database'>['clients'], 'http' | 'database'>
  report(descriptor: ReportDescriptor): void
}

export interface SqlOutcome {
  step: string
  rows: Array<Record<string, unknown>>
  evidence: Evidence
}

export interface StepsOutcome {
  /** False when a step failed (and was reported); the steps after it did not run. */
  ok: boolean
  /** The rows of each `sql` step that ran, in order. */
  sql: SqlOutcome[]
  /** The HTTP exchanges, for findings that need the request that broke (the migration gate). */
  exchanges: Array<{ step: string; exchange: HttpExchange }>
}

/** The label of a step: its name, else its request line or its SQL. */
export function stepLabel(step: DataStep, index: number): string {
  if (step.name) return step.name
  if ('sql' in step) return oneLine(step.sql, 60) || `step ${index + 1}`
  const r = parseRequestLine(step.request)
  return `${r.method} ${r.path}`
}

/** Runs the steps on one sandbox and its database. */
export async function runDataSteps(
  ctx: StepsContext,
  sandbox: Sandbox,
  database: DependencyEndpoint,
  steps: readonly DataStep[],
  defaults: { service?: string; headers?: Record<string, string>; timeoutMs: number },
): Promise<StepsOutcome> {
  const captures = new Map<string, unknown>()
  const outcome: StepsOutcome = { ok: true, sql: [], exchanges: [] }
  const lookup = (name: string): unknown =>
    captures.has(name) ? captures.get(name) : ctx.vars.render(`{{${name}}}`)
  const render = <T>(value: T): T => renderWith(value, lookup)
  const at = { sandbox: `${sandbox.name} sandbox` }
  for (const [index, step] of steps.entries()) {
    const label = stepLabel(step, index)
    const fail = (d: ReportDescriptor): StepsOutcome => {
      ctx.report({ step: label, ...d, data: { step: label, ...at, ...d.data } })
      return { ...outcome, ok: false }
    }
    if ('sql' in step) {
      const { text, params } = bind(step.sql, lookup)
      const reproduce = ctx.clients.database.reproduce(database, text, params)
      let rows: Array<Record<string, unknown>>
      try {
        rows = (
          await ctx.clients.database.query(database, text, params, {
            write: step.write ?? false,
            timeoutMs: defaults.timeoutMs,
          })
        ).rows.map(plain)
      } catch (error) {
        if (!(error instanceof Error) || !('severity' in error || 'code' in error)) throw error
        return fail({
          messageId: 'sql-error',
          data: { error: error.message },
          evidence: sqlEvidence(sandbox, database, text, reproduce, undefined),
        })
      }
      const ev = sqlEvidence(sandbox, database, text, reproduce, rows)
      outcome.sql.push({ step: label, rows, evidence: ev })
      if (step.expect?.rows !== undefined) {
        const assertion = typeof step.expect.rows === 'number' ? step.expect.rows : render(step.expect.rows)
        const failures = checkAssertion({ found: true, value: rows.length }, assertion)
        if (failures.length > 0) {
          return fail({
            messageId: 'rows',
            data: { detail: failures[0]!.message },
            expected: assertion,
            actual: rows.length,
            evidence: ev,
          })
        }
      }
      for (const [pointer, assertion] of Object.entries(step.expect?.json ?? {})) {
        const failures = checkAssertion(select(rows, pointer), render(assertion))
        if (failures.length > 0) {
          const f = failures[0]!
          return fail({
            messageId: 'json',
            pointer,
            data: { pointer, detail: f.message },
            expected: f.expected,
            actual: f.actual,
            evidence: ev,
          })
        }
      }
      for (const [name, pointer] of Object.entries(step.capture ?? {})) {
        const found = select(rows, pointer)
        if (!found.found)
          return fail({ messageId: 'capture', data: { pointer, variable: name }, evidence: ev })
        captures.set(name, found.value)
      }
      continue
    }
    const parsed = render(parseRequestLine(step.request))
    const request = `${parsed.method} ${parsed.path}`
    let exchange: HttpExchange
    try {
      exchange = await ctx.clients.http.request(
        sandboxRequest(
          sandbox,
          step.service ?? defaults.service,
          parsed,
          [render(defaults.headers ?? {}), render(step.headers ?? {})],
          ctx.signal,
        ),
      )
    } catch (error) {
      if (!(error instanceof HttpNetworkError)) throw error
      return fail({
        messageId: 'network',
        data: { request, error: error.message },
        evidence: unansweredEvidence(error, sandbox.name, { index }),
      })
    }
    outcome.exchanges.push({ step: label, exchange })
    const ev = exchangeEvidence(exchange, sandbox.name)
    const expected = step.expect?.status ?? '2XX'
    if (!statusMatches(exchange.response.status, expected)) {
      return fail({
        messageId: 'status',
        data: { request, expected: formatValue(expected), actual: exchange.response.status },
        expected,
        actual: exchange.response.status,
        evidence: ev,
      })
    }
    const body = Object.keys(step.expect?.json ?? {}).length || step.capture ? safeJson(exchange) : undefined
    for (const [pointer, assertion] of Object.entries(step.expect?.json ?? {})) {
      const failures = checkAssertion(select(body, pointer), render(assertion))
      if (failures.length > 0) {
        const f = failures[0]!
        return fail({
          messageId: 'json',
          pointer,
          data: { pointer: `${request} ${pointer}`, detail: f.message },
          expected: f.expected,
          actual: f.actual,
          evidence: ev,
        })
      }
    }
    for (const [name, pointer] of Object.entries(step.capture ?? {})) {
      const found = select(body, pointer)
      if (!found.found)
        return fail({
          messageId: 'capture',
          data: { pointer: `${request} ${pointer}`, variable: name },
          evidence: ev,
        })
      captures.set(name, found.value)
    }
  }
  return outcome
}

/** `{{name}}` in SQL → `$n`, the value bound; the same name twice is one parameter. */
export function bind(sql: string, lookup: (name: string) => unknown): { text: string; params: unknown[] } {
  const params: unknown[] = []
  const index = new Map<string, number>()
  const text = sql.replace(/\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g, (_, name: string) => {
    let n = index.get(name)
    if (n === undefined) {
      params.push(lookup(name))
      n = params.length
      index.set(name, n)
    }
    return `$${n}`
  })
  return { text, params }
}

function renderWith<T>(value: T, lookup: (name: string) => unknown): T {
  const whole = /^\{\{\s*([A-Za-z_][\w.]*)\s*\}\}$/
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const m = whole.exec(v)
      if (m) return lookup(m[1]!)
      return v.replace(/\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g, (_, name: string) => {
        const found = lookup(name)
        return typeof found === 'string' ? found : JSON.stringify(found)
      })
    }
    if (Array.isArray(v)) return v.map(walk)
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
    return v
  }
  return walk(value) as T
}

/** Rows as JSON would carry them: dates as ISO strings, big integers as strings. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(row)) as Record<string, unknown>
}

function safeJson(exchange: HttpExchange): unknown {
  try {
    return exchange.response.json()
  } catch {
    return undefined
  }
}

function statusMatches(status: number, expected: number | string | Array<number | string>): boolean {
  const list = Array.isArray(expected) ? expected : [expected]
  return list.some((e) => {
    const text = String(e).toUpperCase()
    return text === String(status) || (/^[1-5]XX$/.test(text) && text[0] === String(status)[0])
  })
}

export function sqlEvidence(
  sandbox: Sandbox,
  database: DependencyEndpoint,
  sql: string,
  reproduce: string,
  rows: Array<Record<string, unknown>> | undefined,
): Evidence {
  return evidence({
    transport: 'sql',
    sandbox: sandbox.name,
    summary: [
      { label: 'database', value: `${database.name} (${sandbox.name})` },
      { label: 'query', value: oneLine(sql, 200) },
      ...(rows ? [{ label: 'rows', value: String(rows.length) }] : []),
    ],
    ...(rows
      ? { excerpt: { label: 'rows', text: JSON.stringify(rows.slice(0, 5), null, 2).slice(0, 2000) } }
      : {}),
    reproduce,
  })
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** The database a block queries on one sandbox; none there skips the check. */
export function databaseOf(sandbox: Sandbox, name: string | undefined): DependencyEndpoint {
  const all = Object.values(sandbox.deps ?? {}).filter((d) => d.kind === 'postgres')
  if (name !== undefined) {
    const found = all.find((d) => d.name === name)
    if (!found) {
      throw new CheckSkipped(
        `the ${sandbox.name} sandbox has no postgres dependency "${name}" (it has ${all.map((d) => d.name).join(', ') || 'none'})`,
      )
    }
    return found
  }
  if (all.length === 1) return all[0]!
  if (all.length === 0)
    throw new CheckSkipped(`the ${sandbox.name} sandbox has no database (a postgres dependency)`)
  throw new Error(
    `the ${sandbox.name} sandbox has several databases (${all.map((d) => d.name).join(', ')}); name one with database:`,
  )
}
