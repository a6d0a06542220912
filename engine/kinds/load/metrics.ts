/**
 * The metrics model every load engine maps into, named and shaped like k6's end-of-test summary so that
 * thresholds read the same whichever engine ran: `http_req_duration` (trend, milliseconds),
 * `http_req_failed` (rate), `http_reqs`, `data_received`, `data_sent` (counters), plus sub-metrics per
 * request name (`http_req_duration{name:checkout}`).
 */

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend'

/** A counter: total and per-second rate over the measured time. */
export interface CounterMetric {
  type: 'counter'
  values: { count: number; rate: number }
}

export interface GaugeMetric {
  type: 'gauge'
  values: { value: number; min: number; max: number }
}

/** A rate: the share of `true` events, e.g. failed requests for `http_req_failed`. */
export interface RateMetric {
  type: 'rate'
  values: { rate: number; matches: number; total: number }
}

/** A trend: statistics keyed as k6 names them (`avg`, `min`, `med`, `max`, `count`, `p(95)`). */
export interface TrendMetric {
  type: 'trend'
  values: Record<string, number>
}

export type Metric = CounterMetric | GaugeMetric | RateMetric | TrendMetric

/** One engine run mapped into the common model. */
export interface LoadMetrics {
  /** Which engine measured: `builtin` or `k6`. */
  engine: string
  /** Measured time (warm-up excluded). */
  durationMs: number
  /** By metric key: a name, or `name{tag:value}` for a sub-metric. Keys sorted. */
  metrics: Record<string, Metric>
  /** Responses by HTTP status, when the engine reports them. */
  statusCodes?: Record<string, number>
  /** Requests without a response, by cause (`timeout`, `ECONNREFUSED`…). */
  errors?: Record<string, number>
  /** The engine's own threshold verdicts, when it evaluated them (k6): `true` = passed. */
  engineThresholds?: Record<string, Record<string, boolean>>
}

/** The trend statistics k6 reports by default, plus the ones vigil's regression compares. */
export const DEFAULT_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'] as const

/** `p95` / `p(95)` / `med` / `p50` → the k6 statistic name. Returns undefined for an unknown name. */
export function trendStatName(name: string): string | undefined {
  const n = name.trim()
  if (n === 'avg' || n === 'min' || n === 'max' || n === 'med' || n === 'count') return n
  if (n === 'mean') return 'avg'
  if (n === 'median') return 'med'
  const m = /^p\(?(\d{1,2}(?:\.\d+)?|100)\)?$/.exec(n)
  if (!m) return undefined
  const p = Number(m[1])
  return p === 50 ? 'med' : `p(${p})`
}

/** The percentile of a `p(N)` statistic, or undefined for another statistic. */
export function percentileOf(stat: string): number | undefined {
  if (stat === 'med') return 50
  const m = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat)
  return m ? Number(m[1]) : undefined
}

/** A copy with keys sorted, so reports are deterministic. */
export function sortMetrics(metrics: Record<string, Metric>): Record<string, Metric> {
  const out: Record<string, Metric> = {}
  for (const key of Object.keys(metrics).sort()) out[key] = metrics[key]!
  return out
}

/** Rounds every value to 3 decimals (microsecond resolution for milliseconds) for stable reports. */
export function roundValues<T extends Record<string, number>>(values: T): T {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(values)) out[k] = Math.round(v * 1000) / 1000
  return out as T
}
