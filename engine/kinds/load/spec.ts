/**
 * A load block's parameters (already template-rendered) resolved into what engines run: weighted
 * requests against one sandbox service, the load model, bounds, thresholds and the regression rule.
 */
import type { ResourceThresholds } from '../../api/resource-limits.js'
import path from 'node:path'
import { LoadSafetyError } from './errors.js'
import { DEFAULT_TREND_STATS, trendStatName } from './metrics.js'
import { parseRequestLine, SAFE_METHODS, type RequestInput } from '../../api/vocabulary.js'
import { DEFAULT_ALPHA, minRoundsToFail } from './sequential.js'
import { parseThresholds, trendStatsNeeded, type Threshold, type ThresholdInput } from './thresholds.js'

/** A request as a plan writes it: the shared request vocabulary. */
export type { RequestInput }

export interface WeightedRequestInput {
  name?: string
  /** @default 1 */
  weight?: number
  request: RequestInput
  headers?: Record<string, string>
  expect?: { status?: number | number[] }
}

/** The YAML of a `load` block (see schema.ts for the documented defaults). */
export interface LoadParams {
  service?: string
  request?: RequestInput
  requests?: WeightedRequestInput[]
  headers?: Record<string, string>
  expect?: { status?: number | number[] }
  rate?: number | string
  connections?: number
  duration?: string
  warmup?: string
  timeout?: string
  maxRequests?: number
  thresholds?: Record<string, ThresholdInput | ThresholdInput[]>
  regression?: false | RegressionParams
  /** The loaded service's resources on each side during the load: limits, ratios to the baseline, a leak slope. */
  resources?: ResourceThresholds
  engine?: 'auto' | 'builtin' | 'k6' | 'k6-operator'
  k6?: { path?: string; script?: string }
  k6Operator?: { parallelism?: number; image?: string }
}

/** `regression:` — allowed ratios by statistic (`p95: 1.5`), plus the options below. */
export type RegressionParams = { rounds?: number; minDeltaMs?: number; sequential?: boolean } & Record<
  string,
  number | boolean | undefined
>

export interface LoadRequest {
  /** Unique within the check; the `name` tag of its sub-metrics. */
  name: string
  method: string
  /** Path with query string, relative to the service's base URL. */
  path: string
  headers: Record<string, string>
  body?: string
  weight: number
  /** Statuses counted as success; undefined means 200–399 (k6's default). */
  expectStatus?: number[]
}

export type LoadModel =
  { kind: 'rate'; perSecond: number; maxConnections: number } | { kind: 'connections'; connections: number }

export interface RegressionRule {
  /** k6 statistic name (`p(95)`, `med`, `avg`) → the largest allowed candidate/baseline ratio. */
  ratios: Record<string, number>
  /** A/B round pairs: the most run when `sequential`, all of them otherwise. */
  rounds: number
  /** Stop as soon as the decision is clear (see sequential.ts); false runs every round. */
  sequential: boolean
  /** Absolute difference (ms) below which no regression is reported. */
  minDeltaMs: number
  /** False when it applies by default (the plan declared neither thresholds nor regression). */
  explicit: boolean
}

export interface LoadSpec {
  service: string
  requests: LoadRequest[]
  model: LoadModel
  durationMs: number
  warmupMs: number
  timeoutMs: number
  maxRequests: number
  thresholds: Threshold[]
  regression?: RegressionRule
  engine: 'auto' | 'builtin' | 'k6' | 'k6-operator'
  /** With `engine: k6-operator`: runner pods and image. */
  k6Operator?: { parallelism?: number; image?: string }
  k6Path?: string
  /** Absolute path of an existing k6 script. */
  script?: string
  /** Trend statistics to compute: the defaults plus what thresholds and regression need. */
  trendStats: string[]
}

/** Longest load a check may plan (all sides, rounds and warm-ups together). */
export const MAX_TOTAL_LOAD_MS = 5 * 60_000
/** The regression rule for plans that declare no absolute threshold. */
export const DEFAULT_REGRESSION = { ratios: { 'p(95)': 1.5 }, rounds: 8, minDeltaMs: 1, sequential: true }
const DEFAULT_DURATION_MS = 10_000
const DEFAULT_MAX_REQUESTS = 200_000

export function parseMs(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$/.exec(value)
  if (!m) throw new LoadSafetyError(`"${value}" is not a duration like 500ms, 3s or 2m`)
  return Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000))
}

export function parseRate(value: number | string): number {
  if (typeof value === 'number') return value
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(1?s|1?m)\s*$/.exec(value)
  if (!m) throw new LoadSafetyError(`rate "${value}" is not like 200/s or 600/m`)
  return Number(m[1]) / (m[2]!.endsWith('m') ? 60 : 1)
}

/** Refuses anything but a path on the check's own service: load goes only to sandbox endpoints. */
function safePath(raw: string, serviceUrl: string): string {
  if (raw.startsWith('/')) {
    if (raw.startsWith('//')) throw new LoadSafetyError(`request "${raw}": a path must not start with //`)
    return raw
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new LoadSafetyError(`request "${raw}": expected a path starting with /`)
  }
  if (url.origin !== new URL(serviceUrl).origin) {
    throw new LoadSafetyError(
      `request "${raw}": ${url.origin} is not the sandbox service ${serviceUrl}; load traffic only goes to sandbox services (use a path and \`service:\`)`,
    )
  }
  return `${url.pathname}${url.search}`
}

function buildRequest(input: WeightedRequestInput, params: LoadParams, serviceUrl: string): LoadRequest {
  const r = parseRequestLine(input.request)
  let target = safePath(r.path, serviceUrl)
  if (r.query && Object.keys(r.query).length) {
    const u = new URL(target, 'http://x')
    for (const [k, v] of Object.entries(r.query)) {
      if (v === null || v === undefined) continue
      for (const item of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(item))
    }
    target = `${u.pathname}${u.search}`
  }
  const headers: Record<string, string> = { ...params.headers, ...r.headers, ...input.headers }
  let body = r.body
  if (r.json !== undefined && body === undefined) {
    body = JSON.stringify(r.json)
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json'
  }
  const method = r.method
  const status = input.expect?.status ?? params.expect?.status
  const request: LoadRequest = {
    name: input.name ?? `${method} ${target.split('?')[0]}`,
    method,
    path: target,
    headers,
    weight: input.weight ?? 1,
  }
  if (body !== undefined) request.body = body
  if (status !== undefined) request.expectStatus = Array.isArray(status) ? status : [status]
  return request
}

/**
 * The fewest A/B rounds a plan gets: enough for the test to fail a regression at all (5 for one
 * statistic; α is split between statistics). Fewer rounds could never fail anything.
 */
export function minimumRounds(ratios: Record<string, number>): number {
  return minRoundsToFail(DEFAULT_ALPHA / Math.max(1, Object.keys(ratios).length))
}

/**
 * Rounds a sequential check may add past its planned ones when the answer leans towards a regression
 * but is not yet clear: a failure is final only once confirmed, and a true regression is not passed
 * for want of rounds. As many as were planned: a noisy round-to-round ratio needs about twice the rounds
 * of a quiet one to be shown, and only a check that leans towards failing pays for them.
 */
export function confirmRounds(rounds: number): number {
  return rounds
}

function regressionRule(params: LoadParams, hasThresholds: boolean): RegressionRule | undefined {
  if (params.regression === false) return undefined
  if (params.regression === undefined)
    return hasThresholds ? undefined : { ...DEFAULT_REGRESSION, explicit: false }
  const { rounds, minDeltaMs, sequential, ...stats } = params.regression
  const ratios: Record<string, number> = {}
  for (const [key, ratio] of Object.entries(stats)) {
    if (typeof ratio !== 'number') continue
    const stat = trendStatName(key)
    if (!stat)
      throw new LoadSafetyError(`regression: unknown statistic "${key}"; use avg, p50, p90, p95 or p99`)
    ratios[stat] = ratio
  }
  if (Object.keys(ratios).length === 0) Object.assign(ratios, DEFAULT_REGRESSION.ratios)
  return {
    ratios,
    rounds: Math.max(rounds ?? DEFAULT_REGRESSION.rounds, minimumRounds(ratios)),
    minDeltaMs: minDeltaMs ?? DEFAULT_REGRESSION.minDeltaMs,
    sequential: sequential ?? DEFAULT_REGRESSION.sequential,
    explicit: true,
  }
}

export interface ResolveOptions {
  /** Base URL of the service the check loads (candidate), for safety checks. */
  serviceUrl: string
  service: string
  /** Directory of the plan, for `k6.script`. */
  planDir: string
}

/** Validates and resolves rendered params. Throws LoadSafetyError / ThresholdSyntaxError with plain messages. */
/**
 * True when the load only reads: every request's method is safe. A k6 script of the plan's own is never
 * taken to: what it sends is not known.
 */
export function onlyReads(spec: LoadSpec): boolean {
  return (
    spec.script === undefined &&
    spec.requests.length > 0 &&
    spec.requests.every((r) => SAFE_METHODS.has(r.method))
  )
}

export function resolveLoadSpec(params: LoadParams, options: ResolveOptions): LoadSpec {
  if (params.request !== undefined && params.requests !== undefined) {
    throw new LoadSafetyError('give either `request` or `requests`, not both')
  }
  const inputs = params.requests ?? (params.request !== undefined ? [{ request: params.request }] : [])
  if (inputs.length === 0 && !params.k6?.script)
    throw new LoadSafetyError('nothing to send: give `request`, `requests` or `k6.script`')
  const requests = inputs.map((input) => buildRequest(input, params, options.serviceUrl))
  const seen = new Set<string>()
  for (const r of requests) {
    if (seen.has(r.name))
      throw new LoadSafetyError(`two requests are named "${r.name}"; give them distinct \`name\`s`)
    seen.add(r.name)
  }
  const thresholds = parseThresholds(params.thresholds)
  const regression = regressionRule(params, thresholds.length > 0)
  const durationMs = params.duration ? parseMs(params.duration) : DEFAULT_DURATION_MS
  if (durationMs < 100)
    throw new LoadSafetyError(`duration ${params.duration} is too short to measure (at least 100ms)`)
  const warmupMs = params.warmup ? parseMs(params.warmup) : Math.min(1000, Math.round(durationMs / 5))
  let model: LoadModel
  if (params.rate !== undefined) {
    const perSecond = parseRate(params.rate)
    if (!(perSecond > 0)) throw new LoadSafetyError(`rate ${params.rate} must be above 0`)
    const maxConnections = params.connections ?? Math.min(100, Math.max(2, Math.ceil(perSecond / 5)))
    model = { kind: 'rate', perSecond, maxConnections }
  } else {
    model = { kind: 'connections', connections: params.connections ?? 10 }
  }
  const stats = new Set<string>([
    ...DEFAULT_TREND_STATS,
    ...trendStatsNeeded(thresholds),
    ...Object.keys(regression?.ratios ?? {}),
  ])
  const spec: LoadSpec = {
    service: options.service,
    requests,
    model,
    durationMs,
    warmupMs,
    timeoutMs: params.timeout ? parseMs(params.timeout) : 10_000,
    maxRequests: params.maxRequests ?? DEFAULT_MAX_REQUESTS,
    thresholds,
    engine: params.engine ?? 'auto',
    trendStats: [...stats],
  }
  if (regression) spec.regression = regression
  if (params.k6?.path) spec.k6Path = params.k6.path
  if (params.k6Operator) spec.k6Operator = { ...params.k6Operator }
  if (params.k6?.script) spec.script = path.resolve(options.planDir, params.k6.script)
  return spec
}

/**
 * Milliseconds of load the spec plans, given how many sides (1 or 2) it runs against and the engine's
 * shortest round: the rounds a regression needs may outlast `duration` when rounds cannot be shorter.
 */
export function plannedLoadMs(spec: LoadSpec, sides: number, minRoundMs = 0): number {
  const rule = spec.regression
  const rounds = rule ? rule.rounds + (rule.sequential ? confirmRounds(rule.rounds) : 0) : 1
  const measured =
    sides === 2 && rule
      ? Math.max(spec.durationMs, rule.rounds * minRoundMs) * (rounds / rule.rounds)
      : spec.durationMs
  return sides * (spec.warmupMs + measured)
}

/** Requests in the order connections send them: weights spread evenly (smooth weighted round-robin). */
export function weightedSequence(requests: readonly LoadRequest[]): number[] {
  const total = requests.reduce((sum, r) => sum + r.weight, 0)
  const current = requests.map(() => 0)
  const order: number[] = []
  for (let n = 0; n < total; n++) {
    let best = 0
    for (let i = 0; i < requests.length; i++) {
      current[i]! += requests[i]!.weight
      if (current[i]! > current[best]!) best = i
    }
    current[best]! -= total
    order.push(best)
  }
  return order
}

/** True when the request's status counts as success. */
export function isExpectedStatus(request: LoadRequest, status: number): boolean {
  return request.expectStatus ? request.expectStatus.includes(status) : status >= 200 && status < 400
}
