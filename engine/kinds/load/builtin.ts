/**
 * The built-in engine: autocannon in-process. Every response is recorded into vigil's own HDR histograms
 * (microseconds, so sub-millisecond loopback latencies keep their resolution and p95 exists), tagged
 * with the request's name; failures are network errors, timeouts and unexpected statuses.
 */
import autocannon from 'autocannon'
import type { EventEmitter } from 'node:events'
import { Samples } from './samples.js'
import { isExpectedStatus, weightedSequence, type LoadSpec } from './spec.js'

/** Where one engine run sends its load. */
export interface LoadTarget {
  /** `candidate` or `baseline`. */
  side: string
  /** The service's base URL (a sandbox URL). */
  baseUrl: string
  /** Headers the sandbox attaches to every request. */
  headers: Readonly<Record<string, string>>
}

export interface SegmentOptions {
  durationMs: number
  /** Hard cap on requests sent in this segment. */
  maxRequests: number
  signal: AbortSignal
  /**
   * Called about every 100 ms with the samples so far; returning a reason string stops the segment
   * early (abortOnFail thresholds).
   */
  onTick?(samples: Samples): string | undefined
}

export interface SegmentResult {
  samples: Samples
  /** Why the segment stopped before its duration, if it did. */
  stoppedBy?: string
}

/** The autocannon client fields vigil reads; autocannon's types do not declare them. */
interface ClientInternals extends EventEmitter {
  requestIterator: { currentRequestIndex: number; currentRequest: { requestBuffer?: Buffer } }
}

const TICK_MS = 100
/**
 * autocannon ends a run only on its next sample tick after the duration (or a stop) is due: at its usual
 * 100 ms a 250 ms round's segment ran 300 ms and more, a fifth over what the rounds were planned at. Ten
 * milliseconds keeps a segment within a few percent of its duration; a tick only folds two counters into
 * histograms, so the rate does not change (`npm run bench -- load`).
 */
const STOP_MS = 10

/** Runs the spec's requests against one target for one segment (a warm-up, a round, or the whole run). */
export function runBuiltinSegment(
  spec: LoadSpec,
  target: LoadTarget,
  options: SegmentOptions,
): Promise<SegmentResult> {
  const order = weightedSequence(spec.requests)
  const sequence = order.map((i) => spec.requests[i]!)
  const samples = new Samples()
  const connections =
    spec.model.kind === 'rate'
      ? Math.max(1, Math.min(spec.model.maxConnections, Math.ceil(spec.model.perSecond)))
      : spec.model.connections
  const maxRequests = Math.max(options.maxRequests, connections)

  return new Promise((resolve, reject) => {
    let stoppedBy: string | undefined
    const started = performance.now()
    const setupClient = (client: unknown) => {
      const c = client as ClientInternals
      c.on('response', (status: number, bytes: number, durationMs: number) => {
        const it = c.requestIterator
        const request = sequence[it.currentRequestIndex] ?? sequence[0]!
        samples.record({
          name: request.name,
          durationMs,
          status,
          failed: !isExpectedStatus(request, status),
          bytesIn: bytes,
          bytesOut: it.currentRequest.requestBuffer?.length ?? 0,
        })
      })
      const failure = (error: string) => {
        const request = sequence[c.requestIterator.currentRequestIndex] ?? sequence[0]!
        samples.record({ name: request.name, durationMs: 0, failed: true, error })
      }
      c.on('timeout', () => failure('timeout'))
      c.on('connError', (error: NodeJS.ErrnoException) => failure(error?.code ?? 'connection error'))
    }
    const opts: autocannon.Options = {
      url: target.baseUrl,
      connections,
      duration: options.durationMs / 1000,
      sampleInt: STOP_MS,
      timeout: Math.max(1, Math.ceil(spec.timeoutMs / 1000)),
      maxOverallRequests: maxRequests,
      headers: { ...target.headers },
      requests: sequence.map((r) => {
        const req: autocannon.Request = { method: r.method as autocannon.Request['method'], path: r.path }
        req.headers = { ...target.headers, ...r.headers }
        if (r.body !== undefined) req.body = r.body
        return req
      }),
      setupClient: setupClient as autocannon.Options['setupClient'],
    }
    if (spec.model.kind === 'rate') opts.overallRate = Math.max(1, Math.round(spec.model.perSecond))

    const onAbort = () => {
      stoppedBy ??= 'cancelled'
      instance.stop()
    }
    const tick = setInterval(() => {
      const reason = options.onTick?.(samples)
      if (reason && !stoppedBy) {
        stoppedBy = reason
        instance.stop()
      }
    }, TICK_MS)
    const instance = autocannon(opts, (error) => {
      clearInterval(tick)
      options.signal.removeEventListener('abort', onAbort)
      if (error) return reject(error instanceof Error ? error : new Error(String(error)))
      samples.elapsedMs = performance.now() - started
      resolve(stoppedBy ? { samples, stoppedBy } : { samples })
    })
    if (options.signal.aborted) onAbort()
    else options.signal.addEventListener('abort', onAbort, { once: true })
  })
}
