/**
 * k6's `--out json` output (NDJSON: `Metric` lines and `Point` lines) read into raw samples, so that
 * percentiles come from every point, any percentile can be asked for, and A/B rounds merge exactly.
 */
import { K6SummaryError } from '../errors.js'
import { Samples } from '../samples.js'

interface PendingRequest {
  durationMs: number
  status?: number
  error?: string
}

type Json = Record<string, unknown>

/**
 * Parses NDJSON text. A request's `http_req_duration` point is paired with its `http_req_failed` point
 * (k6 writes them in that order with the same tags); requests are named by their `name` tag.
 */
export function parseK6Ndjson(text: string): Samples {
  const samples = new Samples()
  const pending = new Map<string, PendingRequest[]>()
  let first = Infinity
  let last = -Infinity
  const lines = text.split('\n')
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue
    let entry: Json
    try {
      entry = JSON.parse(line) as Json
    } catch {
      throw new K6SummaryError(`k6 json output line ${i + 1}: not JSON`)
    }
    if (entry.type !== 'Point') continue
    const data = entry.data as { time?: string; value?: number; tags?: Record<string, string> } | undefined
    if (!data || typeof data.value !== 'number')
      throw new K6SummaryError(`k6 json output line ${i + 1}: Point without a value`)
    const time = data.time ? Date.parse(data.time) : NaN
    if (Number.isFinite(time)) {
      first = Math.min(first, time)
      last = Math.max(last, time)
    }
    const tags = data.tags ?? {}
    const name = tags.name ?? tags.url ?? 'default'
    switch (entry.metric) {
      case 'http_req_duration': {
        const status = Number(tags.status)
        const request: PendingRequest = { durationMs: data.value }
        // k6 tags a request without a response with status 0 and an error code.
        if (status > 0) request.status = status
        else request.error = tags.error_code ? `k6 error ${tags.error_code}` : 'no response'
        const queue = pending.get(name) ?? []
        queue.push(request)
        pending.set(name, queue)
        break
      }
      case 'http_req_failed': {
        const request = pending.get(name)?.shift()
        if (request) samples.record({ name, ...request, failed: data.value !== 0 })
        else samples.record({ name, durationMs: 0, failed: data.value !== 0, error: 'no duration point' })
        break
      }
      case 'data_received':
        samples.addBytes(data.value, 0)
        break
      case 'data_sent':
        samples.addBytes(0, data.value)
        break
    }
  }
  // Older k6 versions emit no http_req_failed: count those requests by their status alone.
  for (const [name, queue] of pending) {
    for (const request of queue) {
      const failed = request.status === undefined || request.status >= 400
      samples.record({ name, ...request, failed })
    }
  }
  samples.elapsedMs = Number.isFinite(first) ? Math.max(last - first, 0) : 0
  return samples
}
