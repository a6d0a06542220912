/**
 * k6's threshold syntax (`p(95)<200`, `rate<0.01`, `count>100`), parsed and evaluated by vigil the same
 * way for every engine, so a plan's thresholds mean the same thing with or without k6.
 */
import { ThresholdSyntaxError } from './errors.js'
import { percentileOf, trendStatName, type LoadMetrics, type Metric, type MetricType } from './metrics.js'

export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!='

/** One threshold as a plan writes it: the k6 string, or k6's object form. */
export type ThresholdInput =
  string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string | number }

export interface Threshold {
  /** Metric key, e.g. `http_req_duration` or `http_req_duration{name:checkout}`. */
  metric: string
  /** The expression as written, e.g. `p(95)<200`. */
  source: string
  /** The statistic, named as k6 names it: `p(95)`, `avg`, `rate`, `count`, `value`. */
  aggregation: string
  operator: ThresholdOperator
  value: number
  /** Stop the load as soon as this threshold fails. @default false */
  abortOnFail: boolean
  /** Milliseconds of load before an abortOnFail threshold is checked. @default 0 */
  delayAbortEvalMs: number
}

export interface ThresholdResult {
  metric: string
  threshold: string
  /** The measured statistic, or undefined when the engine did not measure this metric. */
  actual?: number
  ok: boolean
  abortOnFail: boolean
}

/** The metric types of the metrics every engine reports, for validating aggregations early. */
export const KNOWN_METRICS: Record<string, MetricType> = {
  http_req_duration: 'trend',
  http_req_failed: 'rate',
  http_reqs: 'counter',
  data_received: 'counter',
  data_sent: 'counter',
}

const AGGREGATIONS: Record<MetricType, (agg: string) => boolean> = {
  trend: (agg) => trendStatName(agg) === agg,
  rate: (agg) => agg === 'rate',
  counter: (agg) => agg === 'count' || agg === 'rate',
  gauge: (agg) => agg === 'value',
}

const EXPRESSION =
  /^\s*([a-z]+(?:\(\s*\d+(?:\.\d+)?\s*\))?)\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i
const METRIC_KEY = /^([A-Za-z_][A-Za-z0-9_]*)(\{[^{}]+\})?$/

/** Milliseconds of `10s`, `500ms`, `1m`, or a number of milliseconds. */
function delayMs(value: string | number | undefined, where: string): number {
  if (value === undefined) return 0
  if (typeof value === 'number') return value
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value.trim())
  if (!m) throw new ThresholdSyntaxError(`${where}: delayAbortEval "${value}" is not a duration like 10s`)
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000)
}

/** Parses one expression for a metric. Throws ThresholdSyntaxError naming the metric and the expression. */
export function parseThreshold(metric: string, input: ThresholdInput): Threshold {
  const source = typeof input === 'string' ? input : input.threshold
  const where = `thresholds.${metric} "${source}"`
  const key = METRIC_KEY.exec(metric)
  if (!key)
    throw new ThresholdSyntaxError(
      `thresholds: "${metric}" is not a metric name (like http_req_duration{name:x})`,
    )
  const m = EXPRESSION.exec(source)
  if (!m) {
    throw new ThresholdSyntaxError(
      `${where}: expected "<aggregation> <operator> <number>", e.g. "p(95)<200" or "rate<0.01"`,
    )
  }
  const aggregation = m[1]!.replace(/\s+/g, '')
  const type = KNOWN_METRICS[key[1]!]
  if (type && !AGGREGATIONS[type](aggregation)) {
    const allowed = {
      trend: 'avg, min, med, max, p(N)',
      rate: 'rate',
      counter: 'count, rate',
      gauge: 'value',
    }[type]
    throw new ThresholdSyntaxError(`${where}: ${key[1]} is a ${type}; its aggregations are ${allowed}`)
  }
  const p = percentileOf(aggregation)
  if (p !== undefined && (p < 0 || p > 100))
    throw new ThresholdSyntaxError(`${where}: a percentile is between 0 and 100`)
  const operator = (m[2] === '===' ? '==' : m[2]) as ThresholdOperator
  return {
    metric,
    source,
    aggregation,
    operator,
    value: Number(m[3]),
    abortOnFail: typeof input === 'object' && input.abortOnFail === true,
    delayAbortEvalMs: typeof input === 'object' ? delayMs(input.delayAbortEval, where) : 0,
  }
}

/** Parses a plan's `thresholds` object; throws on the first bad expression. Sorted by metric. */
export function parseThresholds(
  input: Record<string, ThresholdInput | ThresholdInput[]> | undefined,
): Threshold[] {
  const out: Threshold[] = []
  for (const metric of Object.keys(input ?? {}).sort()) {
    const list = input![metric]!
    for (const item of Array.isArray(list) ? list : [list]) out.push(parseThreshold(metric, item))
  }
  return out
}

/** Trend statistics the thresholds need, so engines compute (or ask k6 for) them. */
export function trendStatsNeeded(thresholds: readonly Threshold[]): string[] {
  return [...new Set(thresholds.map((t) => t.aggregation).filter((a) => trendStatName(a) === a))]
}

function compare(actual: number, operator: ThresholdOperator, value: number): boolean {
  switch (operator) {
    case '<':
      return actual < value
    case '<=':
      return actual <= value
    case '>':
      return actual > value
    case '>=':
      return actual >= value
    case '==':
      return actual === value
    case '!=':
      return actual !== value
  }
}

function statistic(metric: Metric, aggregation: string): number | undefined {
  const values = metric.values as Record<string, number>
  if (metric.type === 'rate' && aggregation === 'rate') return values.rate
  return values[aggregation]
}

/** Evaluates thresholds against metrics. A metric the engine did not measure fails with no `actual`. */
export function evaluateThresholds(
  thresholds: readonly Threshold[],
  metrics: LoadMetrics,
): ThresholdResult[] {
  return thresholds.map((t) => {
    const metric = metrics.metrics[t.metric]
    const actual = metric ? statistic(metric, t.aggregation) : undefined
    const result: ThresholdResult = {
      metric: t.metric,
      threshold: t.source,
      ok: actual !== undefined && compare(actual, t.operator, t.value),
      abortOnFail: t.abortOnFail,
    }
    if (actual !== undefined) result.actual = actual
    return result
  })
}
