import { build, type Histogram } from 'hdr-histogram-js'
import { percentileOf, roundValues, sortMetrics, type LoadMetrics, type Metric } from './metrics.js'

/** Latencies are kept in microseconds: loopback answers in well under a millisecond. */
const US_PER_MS = 1000

function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  })
}

/** Per-request-name (or whole-run) tallies: a latency histogram and counters. */
class Series {
  readonly histogram = newHistogram()
  requests = 0
  failed = 0
  bytesIn = 0
  bytesOut = 0

  add(other: Series): void {
    this.histogram.add(other.histogram)
    this.requests += other.requests
    this.failed += other.failed
    this.bytesIn += other.bytesIn
    this.bytesOut += other.bytesOut
  }

  trend(stats: readonly string[]): Record<string, number> {
    const h = this.histogram
    const values: Record<string, number> = {}
    for (const stat of stats) {
      if (stat === 'count') values.count = h.totalCount
      else if (h.totalCount === 0) values[stat] = 0
      else if (stat === 'avg') values.avg = h.mean / US_PER_MS
      else if (stat === 'min') values.min = h.minNonZeroValue / US_PER_MS
      else if (stat === 'max') values.max = h.maxValue / US_PER_MS
      else {
        const p = percentileOf(stat)
        if (p !== undefined) values[stat] = h.getValueAtPercentile(p) / US_PER_MS
      }
    }
    return roundValues(values)
  }
}

/** One response or failed attempt. */
export interface SampleInput {
  /** The request's name (sub-metric tag), e.g. `checkout`. */
  name: string
  durationMs: number
  /** HTTP status, or undefined when no response came (network error, timeout). */
  status?: number
  /** Counted in `http_req_failed`. */
  failed: boolean
  /** Why no response came, e.g. `timeout`, `ECONNRESET`. */
  error?: string
  bytesIn?: number
  bytesOut?: number
}

/**
 * Raw samples of one or more engine runs. Both engines fill it (the built-in one per response, k6 from
 * its `--out json` points), and A/B rounds merge it per side, so percentiles are always computed from
 * all samples rather than averaged across runs.
 */
export class Samples {
  private readonly total = new Series()
  private readonly byName = new Map<string, Series>()
  readonly statusCodes: Record<string, number> = {}
  readonly errors: Record<string, number> = {}
  /** Measured milliseconds (sum over merged runs). */
  elapsedMs = 0
  private readonly createdAt = performance.now()

  /** Milliseconds since this object was created: the elapsed time of a segment still running. */
  elapsedMsSoFar(): number {
    return this.elapsedMs || performance.now() - this.createdAt
  }

  get count(): number {
    return this.total.requests
  }

  record(sample: SampleInput): void {
    let series = this.byName.get(sample.name)
    if (!series) this.byName.set(sample.name, (series = new Series()))
    const us = Math.max(1, Math.round(sample.durationMs * US_PER_MS))
    for (const s of [this.total, series]) {
      s.requests++
      if (sample.failed) s.failed++
      // A request without a response has no meaningful latency (k6 records none either).
      if (sample.status !== undefined) s.histogram.recordValue(us)
      s.bytesIn += sample.bytesIn ?? 0
      s.bytesOut += sample.bytesOut ?? 0
    }
    if (sample.status !== undefined)
      this.statusCodes[sample.status] = (this.statusCodes[sample.status] ?? 0) + 1
    if (sample.error) this.errors[sample.error] = (this.errors[sample.error] ?? 0) + 1
  }

  /** Bytes not tied to one request (k6 reports them per iteration). */
  addBytes(bytesIn: number, bytesOut: number): void {
    this.total.bytesIn += bytesIn
    this.total.bytesOut += bytesOut
  }

  merge(other: Samples): void {
    this.total.add(other.total)
    for (const [name, series] of other.byName) {
      let mine = this.byName.get(name)
      if (!mine) this.byName.set(name, (mine = new Series()))
      mine.add(series)
    }
    for (const [k, v] of Object.entries(other.statusCodes))
      this.statusCodes[k] = (this.statusCodes[k] ?? 0) + v
    for (const [k, v] of Object.entries(other.errors)) this.errors[k] = (this.errors[k] ?? 0) + v
    this.elapsedMs += other.elapsedMs
  }

  /** The common metrics model, with the trend statistics asked for. */
  toMetrics(engine: string, stats: readonly string[]): LoadMetrics {
    const seconds = Math.max(this.elapsedMs, 1) / 1000
    const metrics: Record<string, Metric> = {}
    const put = (suffix: string, s: Series) => {
      metrics[`http_req_duration${suffix}`] = { type: 'trend', values: s.trend(stats) }
      metrics[`http_req_failed${suffix}`] = {
        type: 'rate',
        values: roundValues({
          rate: s.requests ? s.failed / s.requests : 0,
          matches: s.failed,
          total: s.requests,
        }),
      }
      metrics[`http_reqs${suffix}`] = {
        type: 'counter',
        values: roundValues({ count: s.requests, rate: s.requests / seconds }),
      }
    }
    put('', this.total)
    metrics.data_received = {
      type: 'counter',
      values: roundValues({ count: this.total.bytesIn, rate: this.total.bytesIn / seconds }),
    }
    metrics.data_sent = {
      type: 'counter',
      values: roundValues({ count: this.total.bytesOut, rate: this.total.bytesOut / seconds }),
    }
    // Sub-metrics per request name, as k6 tags them, so thresholds can single out one request.
    for (const [name, s] of this.byName) put(`{name:${name}}`, s)
    return {
      engine,
      durationMs: Math.round(this.elapsedMs),
      metrics: sortMetrics(metrics),
      statusCodes: sortRecord(this.statusCodes),
      errors: sortRecord(this.errors),
    }
  }
}

function sortRecord(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)))
}
