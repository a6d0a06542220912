/**
 * Parsers for k6's three end-of-test summary documents, all mapped into the common metrics model:
 * - `handleSummary(data)`: `metrics[name] = { type, contains, values, thresholds?: { expr: { ok } } }`
 *   (`ok: true` = passed);
 * - legacy `--summary-export`: `metrics[name] = { ...values, thresholds?: { expr: boolean } }` where
 *   **`true` means the threshold FAILED**, and a rate's share is `value`;
 * - the machine-readable summary v1.0.0 (`--new-machine-readable-summary`): `results.metrics[]`.
 */
import { K6SummaryError } from '../errors.js'
import { roundValues, sortMetrics, type LoadMetrics, type Metric, type MetricType } from '../metrics.js'

export type K6SummaryFormat = 'handle-summary' | 'summary-export' | 'machine-readable-v1'

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function numbers(values: Json, where: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(values)) {
    if (k === 'thresholds') continue
    if (typeof v !== 'number') throw new K6SummaryError(`${where}: value "${k}" is not a number`)
    out[k] = v
  }
  return out
}

function metricOf(type: MetricType, v: Record<string, number>, where: string): Metric {
  switch (type) {
    case 'counter':
      return { type, values: roundValues({ count: v.count ?? 0, rate: v.rate ?? 0 }) }
    case 'gauge':
      return { type, values: roundValues({ value: v.value ?? 0, min: v.min ?? 0, max: v.max ?? 0 }) }
    case 'rate': {
      // handleSummary: rate/passes/fails; legacy export: value/passes/fails; v1: rate/matches/total.
      const matches = v.matches ?? v.passes ?? 0
      const total = v.total ?? matches + (v.fails ?? 0)
      return {
        type,
        values: roundValues({ rate: v.rate ?? v.value ?? (total ? matches / total : 0), matches, total }),
      }
    }
    case 'trend':
      return { type, values: roundValues(v) }
    default:
      throw new K6SummaryError(`${where}: unknown metric type "${String(type)}"`)
  }
}

/** The legacy export has no `type`: tell it from the value names. */
function inferType(v: Record<string, number>): MetricType {
  if ('passes' in v || 'fails' in v) return 'rate'
  if ('count' in v) return 'counter'
  if ('value' in v && 'min' in v && 'max' in v && !('avg' in v)) return 'gauge'
  return 'trend'
}

/** Which of the three documents this is, or undefined. */
export function detectK6Summary(doc: unknown): K6SummaryFormat | undefined {
  if (!isObject(doc)) return undefined
  if (typeof doc.version === 'string' && isObject(doc.results) && Array.isArray(doc.results.metrics)) {
    return 'machine-readable-v1'
  }
  if (!isObject(doc.metrics)) return undefined
  const first = Object.values(doc.metrics).find(isObject)
  if (first && typeof first.type === 'string' && isObject(first.values)) return 'handle-summary'
  return 'summary-export'
}

function fromHandleSummary(doc: Json): LoadMetrics {
  const metrics: Record<string, Metric> = {}
  const engineThresholds: Record<string, Record<string, boolean>> = {}
  const state = isObject(doc.state) ? doc.state : {}
  for (const [name, raw] of Object.entries(doc.metrics as Json)) {
    const where = `handleSummary metrics.${name}`
    if (!isObject(raw) || !isObject(raw.values))
      throw new K6SummaryError(`${where}: expected { type, values }`)
    metrics[name] = metricOf(raw.type as MetricType, numbers(raw.values, where), where)
    if (isObject(raw.thresholds)) {
      engineThresholds[name] = Object.fromEntries(
        Object.entries(raw.thresholds).map(([expr, r]) => [expr, isObject(r) && r.ok === true]),
      )
    }
  }
  return result(
    metrics,
    engineThresholds,
    typeof state.testRunDurationMs === 'number' ? state.testRunDurationMs : 0,
  )
}

function fromSummaryExport(doc: Json): LoadMetrics {
  const metrics: Record<string, Metric> = {}
  const engineThresholds: Record<string, Record<string, boolean>> = {}
  for (const [name, raw] of Object.entries(doc.metrics as Json)) {
    const where = `summary-export metrics.${name}`
    if (!isObject(raw)) throw new K6SummaryError(`${where}: expected an object of values`)
    const values = numbers(raw, where)
    metrics[name] = metricOf(inferType(values), values, where)
    if (isObject(raw.thresholds)) {
      // In the legacy export a threshold's value is true when it FAILED.
      engineThresholds[name] = Object.fromEntries(
        Object.entries(raw.thresholds).map(([expr, failed]) => [expr, failed !== true]),
      )
    }
  }
  return result(metrics, engineThresholds, 0)
}

function fromMachineReadable(doc: Json): LoadMetrics {
  const metrics: Record<string, Metric> = {}
  const results = doc.results as Json
  for (const [i, raw] of (results.metrics as unknown[]).entries()) {
    const where = `summary results.metrics[${i}]`
    if (!isObject(raw) || typeof raw.name !== 'string' || !isObject(raw.values)) {
      throw new K6SummaryError(`${where}: expected { name, type, contains, values }`)
    }
    metrics[raw.name] = metricOf(raw.type as MetricType, numbers(raw.values, where), where)
  }
  const config = isObject(doc.config) ? doc.config : {}
  const seconds = typeof config.duration === 'number' ? config.duration : 0
  const out = result(metrics, {}, seconds * 1000)
  // v1 keeps only the overall outcome of the thresholds.
  if (typeof results.passed === 'boolean') out.engineThresholds = { '*': { passed: results.passed } }
  return out
}

function result(
  metrics: Record<string, Metric>,
  thresholds: Record<string, Record<string, boolean>>,
  durationMs: number,
): LoadMetrics {
  const out: LoadMetrics = { engine: 'k6', durationMs: Math.round(durationMs), metrics: sortMetrics(metrics) }
  if (Object.keys(thresholds).length) out.engineThresholds = thresholds
  return out
}

/** Parses any of the three k6 summary documents (text or parsed). */
export function parseK6Summary(input: string | unknown): LoadMetrics & { format: K6SummaryFormat } {
  let doc: unknown = input
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input)
    } catch (error) {
      throw new K6SummaryError(`k6 summary: not JSON (${(error as Error).message})`, { cause: error })
    }
  }
  const format = detectK6Summary(doc)
  if (!format) {
    throw new K6SummaryError(
      'k6 summary: neither a handleSummary document, a --summary-export file nor a v1 summary',
    )
  }
  const parsers = {
    'handle-summary': fromHandleSummary,
    'summary-export': fromSummaryExport,
    'machine-readable-v1': fromMachineReadable,
  }
  return { ...parsers[format](doc as Json), format }
}

/** The thresholds k6 itself judged failed, as `metric: expression` strings (sorted). */
export function failedEngineThresholds(metrics: LoadMetrics): string[] {
  const failed: string[] = []
  for (const [metric, exprs] of Object.entries(metrics.engineThresholds ?? {})) {
    for (const [expr, ok] of Object.entries(exprs)) if (!ok) failed.push(`${metric}: ${expr}`)
  }
  return failed.sort()
}
