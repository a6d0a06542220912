/**
 * One HTTP step in the e2e vocabulary — send, assert, capture — shared by the kinds that run steps (e2e,
 * fault, race). A kind that runs them lists `httpStepMessages` in its `meta.messages`.
 */
import type { JsonSchema } from '../../plans/types.js'
import { parseDuration } from '../../plans/duration.js'
import type { HttpExchange } from '../http/client.js'
import { HttpNetworkError } from '../http/network-error.js'
import { select, type Selection } from './json-select.js'
import { VariableError, type Variables as ScopableVariables } from '../vars.js'
import { assertionSchema, checkAssertion, formatValue } from './assertions.js'
import type { CheckContext, ReportDescriptor, Variables } from './kind.js'
import { exchangeEvidence, unansweredEvidence } from './evidence.js'
import { parseRequestLine, requestEntryProperties, statusSchema, type RequestObject } from './vocabulary.js'
import type { Sandbox } from './sandbox.js'

export interface HttpExpect {
  /** A code, a list of codes, or a class such as `2xx`. @default any status below 400 */
  status?: number | string | Array<number | string>
  /** Header name → assertion (names case-insensitive). */
  headers?: Record<string, unknown>
  /** JSON pointer (`/id`) or JSONPath (`$.items[0].sku`) → assertion; a plain value means deep equals. */
  json?: Record<string, unknown>
  /** Assertion on the body as text, e.g. `{ contains: ok }`. */
  body?: unknown
  /** Slowest acceptable response, in milliseconds. */
  maxMs?: number
}

export interface HttpStep {
  name: string
  /** @default the sandbox's default service */
  service?: string
  /** @default candidate */
  sandbox?: 'candidate' | 'baseline'
  /** `"GET /path"` or the object form. */
  request: string | RequestObject
  /** Headers added to the request (over the request's own). */
  headers?: Record<string, string>
  expect?: HttpExpect
  /** Variable → `/pointer`, `$.jsonpath`, `header:NAME`, `status` or `body`. */
  capture?: Record<string, string>
  /** Request timeout (`5s`, or milliseconds). @default the check's remaining time */
  timeout?: string | number
  /**
   * An asynchronous effect: retry the request with backoff until its expectations hold or this much time
   * has passed (`5s`); the finding says how many attempts were made and what the last one returned.
   */
  eventually?: string | number
}

const assertion = assertionSchema
const duration = {
  type: ['string', 'number'],
  description: 'A duration like 500ms, 30s, 2m, or milliseconds',
}
/** JSON Schema of one HTTP step (e2e steps, and the steps of the fault and race kinds). */
export const httpStepSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'request'],
  additionalProperties: false,
  properties: {
    ...requestEntryProperties,
    sandbox: { enum: ['candidate', 'baseline'] },
    expect: {
      type: 'object',
      additionalProperties: false,
      properties: {
        status: statusSchema,
        headers: { type: 'object', additionalProperties: assertion },
        json: { type: 'object', additionalProperties: assertion, propertyNames: { pattern: '^(/|\\$)|^$' } },
        body: assertion,
        maxMs: { type: 'number', exclusiveMinimum: 0 },
      },
    },
    capture: {
      type: 'object',
      additionalProperties: { type: 'string', pattern: '^(/.*|\\$.*|header:.+|status|body)?$' },
    },
    timeout: duration,
    eventually: {
      anyOf: [
        { type: 'number', exclusiveMinimum: 0 },
        {
          type: 'string',
          pattern: '^\\s*(\\d+(\\.\\d+)?(ms|s|m|h))+\\s*$',
        },
      ],
    },
  },
}

/** The messages `runHttpStep` reports, for the `meta.messages` of a kind that runs steps. */
export const httpStepMessages = {
  status: 'Step "{{step}}": {{request}} expected status {{expected}}, got {{actual}}.',
  header: 'Step "{{step}}": {{request}} header {{header}}: {{detail}}.',
  json: 'Step "{{step}}": {{request}} {{pointer}}: {{detail}}.',
  'not-json': 'Step "{{step}}": {{request}} expected a JSON body, got {{excerpt}}.',
  body: 'Step "{{step}}": {{request}} body: {{detail}}.',
  slow: 'Step "{{step}}": {{request}} took {{actual}} ms, expected at most {{expected}} ms.',
  network: 'Step "{{step}}": {{request}} to service {{service}} failed: {{error}}.',
  capture: 'Step "{{step}}": {{request}} has nothing at {{source}} to capture into "{{variable}}".',
} as const

export interface StepEnv {
  ctx: CheckContext<unknown, 'http'>
  vars: Variables & Partial<Pick<ScopableVariables, 'scoped'>>
  /** The sandbox the steps run on (a step's own `sandbox:` wins). @default the candidate */
  side?: Sandbox
}

function statusMatches(status: number, expected: number | string): boolean {
  if (typeof expected === 'number') return status === expected
  const cls = /^([1-5])xx$/i.exec(expected)
  return cls ? Math.floor(status / 100) === Number(cls[1]) : String(status) === expected
}

function statusList(expect: HttpExpect | undefined): Array<number | string> | undefined {
  if (expect?.status === undefined) return undefined
  return Array.isArray(expect.status) ? expect.status : [expect.status]
}

/** Reads a capture source from a response. */
export function captureFrom(exchange: HttpExchange, source: string): Selection {
  const { response } = exchange
  if (source === 'status') return { found: true, value: response.status }
  if (source === 'body') return { found: true, value: response.text() }
  if (source.startsWith('header:')) {
    const value = response.headers[source.slice(7).trim().toLowerCase()]
    return value === undefined ? { found: false } : { found: true, value }
  }
  const json = response.json()
  if (json === undefined) return { found: false }
  return select(json, source)
}

/**
 * Runs steps in order until one fails; each step after it is reported as not run (`not-run`, a message
 * the kind declares). True when every step passed.
 */
export async function runStepsInOrder<S extends { name: string }>(
  ctx: Pick<CheckContext<unknown>, 'report'>,
  steps: readonly S[],
  runOne: (step: S) => Promise<boolean>,
): Promise<boolean> {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!
    if (await runOne(step)) continue
    for (const rest of steps.slice(i + 1))
      ctx.report({
        severity: 'info',
        step: rest.name,
        messageId: 'not-run',
        data: { step: rest.name, failed: step.name },
      })
    return false
  }
  return true
}

/** First pause between attempts of an `eventually` step; doubled each time, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 1_000

/**
 * Runs one HTTP step; reports its failures and returns whether it passed. With `eventually`, attempts are
 * repeated with backoff until one passes or the time is up; only the last attempt's failures are reported,
 * each saying how many attempts were made.
 */
export async function runHttpStep(env: StepEnv, raw: HttpStep): Promise<boolean> {
  if (raw.eventually === undefined) return attemptHttpStep(env, raw)
  const { ctx } = env
  const deadline = performance.now() + Math.min(parseDuration(raw.eventually), ctx.timeoutMs)
  let pause = FIRST_BACKOFF_MS
  for (let attempt = 1; ; attempt++) {
    const reports: ReportDescriptor[] = []
    const buffered = { ...ctx, report: (descriptor: ReportDescriptor) => void reports.push(descriptor) }
    if (await attemptHttpStep({ ...env, ctx: buffered }, raw)) return true
    const left = deadline - performance.now()
    if (left <= 0 || ctx.signal.aborted) {
      const note = `${attempt} attempt${attempt === 1 ? '' : 's'} over ${raw.eventually}`
      for (const report of reports) {
        ctx.report({
          ...report,
          data: { ...report.data, step: `${raw.name}, after ${note}` },
          evidence: report.evidence && {
            ...report.evidence,
            summary: [...report.evidence.summary, { label: 'attempts', value: note }],
          },
        })
      }
      return false
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)))
    pause = Math.min(pause * 2, MAX_BACKOFF_MS)
  }
}

async function attemptHttpStep({ ctx, vars, side }: StepEnv, raw: HttpStep): Promise<boolean> {
  const sandbox = raw.sandbox ? ctx.sandboxes[raw.sandbox] : (side ?? ctx.sandboxes.candidate)
  if (!sandbox) throw new Error(`step "${raw.name}" uses the baseline sandbox, but this run has none`)
  const service = raw.service ?? sandbox.defaultService
  // The vars of a side already resolve its services; a step's `sandbox: baseline` needs a view on them.
  const scoped =
    raw.sandbox !== 'baseline' || !vars.scoped
      ? vars
      : vars.scoped(
          Object.fromEntries(Object.entries(sandbox.services).map(([k, v]) => [k, v.url])),
          sandbox.defaultService,
        )
  // Captures and expectations are rendered now, so earlier steps' captures are visible.
  const step = {
    ...raw,
    request: scoped.render(parseRequestLine(raw.request)),
    headers: scoped.render(raw.headers),
  }
  const expect = scoped.render(raw.expect)
  const request = step.request
  const method = (request.method ?? 'GET').toUpperCase()
  const path = String(request.path)
  if (!path.startsWith('/')) {
    throw new VariableError(
      `step "${raw.name}": path "${path}" must start with "/" (pick the target with "service")`,
    )
  }
  const base = sandbox.url(service)
  const timeoutMs = Math.max(
    1,
    Math.min(step.timeout !== undefined ? parseDuration(step.timeout) : Infinity, ctx.timeoutMs),
  )
  const label = `${method} ${path}`
  const common: ReportDescriptor = { step: raw.name }
  ctx.progress(`${raw.name}: ${label}`)

  let exchange: HttpExchange
  try {
    exchange = await ctx.clients.http.request({
      method,
      url: base + path,
      query: request.query,
      headers: { ...sandbox.headers, ...request.headers, ...step.headers },
      json: request.json,
      body: request.body,
      timeoutMs,
      signal: ctx.signal,
    })
  } catch (error) {
    // The run was cancelled or timed out: not the service's fault, let the executor say so.
    if (ctx.signal.aborted) throw ctx.signal.reason ?? error
    if (!(error instanceof HttpNetworkError)) throw error
    ctx.report({
      ...common,
      messageId: 'network',
      data: { step: raw.name, request: label, service, error: error.message },
      evidence: unansweredEvidence(error, sandbox.name),
    })
    return false
  }

  const { response } = exchange
  // Evidence is built only when something fails: most steps pass, and redaction is not free.
  let recorded: Pick<ReportDescriptor, 'evidence'> | undefined
  let failures = 0
  const fail = (descriptor: ReportDescriptor) => {
    failures++
    recorded ??= { evidence: exchangeEvidence(exchange, sandbox.name) }
    ctx.report({ ...common, ...recorded, ...descriptor })
  }
  const data = { step: raw.name, request: label }

  const statuses = statusList(expect)
  const statusOk = statuses ? statuses.some((s) => statusMatches(response.status, s)) : response.status < 400
  if (!statusOk) {
    const expected = statuses ? (statuses.length === 1 ? statuses[0] : statuses) : 'below 400'
    const shown = statuses ? statuses.join(' or ') : 'below 400'
    fail({
      messageId: 'status',
      data: { ...data, expected: shown, actual: response.status },
      expected,
      actual: response.status,
    })
    // The body of an unexpected status answers another question: asserting on it only adds noise.
    return false
  }
  for (const [name, assertion] of Object.entries(expect?.headers ?? {})) {
    const value = response.headers[name.toLowerCase()]
    const actual: Selection = value === undefined ? { found: false } : { found: true, value }
    for (const f of checkAssertion(actual, assertion)) {
      fail({
        messageId: 'header',
        data: { ...data, header: name.toLowerCase(), detail: f.message },
        expected: f.expected,
        actual: f.actual,
      })
    }
  }
  const jsonChecks = Object.entries(expect?.json ?? {})
  if (jsonChecks.length) {
    const document = response.json()
    if (document === undefined && response.body.length > 0) {
      fail({ messageId: 'not-json', data: { ...data, excerpt: formatValue(response.text().slice(0, 80)) } })
    } else {
      for (const [pointer, assertion] of jsonChecks) {
        const actual = document === undefined ? ({ found: false } as const) : select(document, pointer)
        for (const f of checkAssertion(actual, assertion)) {
          fail({
            messageId: 'json',
            data: { ...data, pointer, detail: f.message },
            pointer,
            expected: f.expected,
            actual: f.actual,
          })
        }
      }
    }
  }
  if (expect?.body !== undefined) {
    for (const f of checkAssertion({ found: true, value: response.text() }, expect.body)) {
      fail({
        messageId: 'body',
        data: { ...data, detail: f.message },
        expected: f.expected,
        actual: formatValue(f.actual, 200),
      })
    }
  }
  if (expect?.maxMs !== undefined && response.durationMs > expect.maxMs) {
    const actual = Math.round(response.durationMs)
    fail({
      messageId: 'slow',
      data: { ...data, expected: expect.maxMs, actual },
      expected: expect.maxMs,
      actual,
    })
  }
  // Capture only from a response that met its expectations: a capture from an error body would
  // hide the real failure behind a confusing one in the next step.
  if (failures) return false
  for (const [variable, source] of Object.entries(raw.capture ?? {})) {
    const selected = captureFrom(exchange, source)
    if (!selected.found) {
      fail({ messageId: 'capture', data: { ...data, variable, source }, pointer: source })
      continue
    }
    vars.set(variable, selected.value)
  }
  return failures === 0
}
