/**
 * Runs a load spec against the sandboxes: a warm-up per side, then either one measured segment on the
 * candidate, or A/B rounds alternating baseline and candidate (A B, B A, A B, …: the order flips each
 * pair so that drift of the machine during the run falls on both sides alike). Samples are merged per
 * side, so percentiles come from every request of every round.
 */
import type { LoadTarget, SegmentResult } from './builtin.js'
import type { LoadMetrics } from './metrics.js'
import { Samples } from './samples.js'
import type { LoadSpec } from './spec.js'
import { evaluateThresholds } from './thresholds.js'

export interface SegmentRequest {
  durationMs: number
  maxRequests: number
  signal: AbortSignal
  onTick?(samples: Samples): string | undefined
}

/** One engine: runs one segment against one target. */
export type SegmentRunner = (
  target: LoadTarget,
  segment: SegmentRequest,
) => Promise<SegmentResult & { summary?: LoadMetrics }>

export interface MeasureOptions {
  candidate: LoadTarget
  /** Present when the regression is measured. */
  baseline?: LoadTarget
  signal: AbortSignal
  /** Shortest round the engine supports well (the built-in rate model works per second). @default 250 */
  minRoundMs?: number
  progress?(note: string): void
}

export interface MeasureResult {
  candidate: Samples
  baseline?: Samples
  /** A/B round pairs run (1 without a baseline). */
  rounds: number
  roundMs: number
  /** Why the load stopped early (an abortOnFail threshold, cancellation). */
  stoppedBy?: string
  /** The engine's own summaries of the candidate's segments (k6), last one last. */
  summaries: LoadMetrics[]
  /** Each A/B pair's samples, for per-pair ratios (empty without a baseline). */
  pairs: Array<{ baseline: Samples; candidate: Samples }>
}

/** Round length and count for a duration split into `rounds` pairs. */
export function planRounds(
  durationMs: number,
  rounds: number,
  minRoundMs: number,
): { rounds: number; roundMs: number } {
  let roundMs = Math.max(minRoundMs, Math.floor(durationMs / rounds))
  if (minRoundMs >= 1000) roundMs = Math.round(roundMs / 1000) * 1000
  return { rounds: Math.max(1, Math.min(rounds, Math.floor(durationMs / roundMs))), roundMs }
}

export async function measureLoad(
  spec: LoadSpec,
  run: SegmentRunner,
  options: MeasureOptions,
): Promise<MeasureResult> {
  const progress = options.progress ?? (() => undefined)
  const candidate = new Samples()
  const baseline = options.baseline ? new Samples() : undefined
  const summaries: LoadMetrics[] = []
  const abortable = spec.thresholds.filter((t) => t.abortOnFail)
  let stoppedBy: string | undefined
  let measuredMs = 0

  // abortOnFail thresholds are checked on everything the candidate measured so far, as k6 does.
  const onTick = (current: Samples): string | undefined => {
    if (abortable.length === 0) return undefined
    const elapsed = measuredMs + current.elapsedMsSoFar()
    const due = abortable.filter((t) => elapsed >= t.delayAbortEvalMs)
    if (due.length === 0 || current.count === 0) return undefined
    const all = new Samples()
    all.merge(candidate)
    all.merge(current)
    all.elapsedMs = elapsed
    const failed = evaluateThresholds(due, all.toMetrics('builtin', spec.trendStats)).find((r) => !r.ok)
    return failed ? `threshold ${failed.metric} ${failed.threshold} failed (abortOnFail)` : undefined
  }

  const segment = async (
    target: LoadTarget,
    into: Samples | undefined,
    durationMs: number,
    maxRequests: number,
    pairInto?: Samples,
  ) => {
    if (options.signal.aborted) return
    const isCandidate = target === options.candidate
    const result = await run(target, {
      durationMs,
      maxRequests,
      signal: options.signal,
      ...(into && isCandidate ? { onTick } : {}),
    })
    pairInto?.merge(result.samples)
    if (into) {
      into.merge(result.samples)
      if (isCandidate) measuredMs += result.samples.elapsedMs
      if (isCandidate && result.summary) summaries.push(result.summary)
    }
    if (result.stoppedBy && into) stoppedBy ??= result.stoppedBy
  }

  if (spec.warmupMs > 0) {
    for (const target of [options.baseline, options.candidate]) {
      if (!target) continue
      progress(`warm-up ${target.side} ${spec.warmupMs}ms`)
      await segment(target, undefined, spec.warmupMs, spec.maxRequests)
    }
  }

  if (!options.baseline || !baseline) {
    progress(`measuring candidate ${spec.durationMs}ms`)
    await segment(options.candidate, candidate, spec.durationMs, spec.maxRequests)
    return finish(
      { candidate, rounds: 1, roundMs: spec.durationMs, summaries, pairs: [] },
      stoppedBy,
      options.signal,
    )
  }

  const { rounds, roundMs } = planRounds(
    spec.durationMs,
    spec.regression?.rounds ?? 1,
    options.minRoundMs ?? 250,
  )
  const perRound = Math.max(1, Math.floor(spec.maxRequests / rounds))
  let done = 0
  const pairs: MeasureResult['pairs'] = []
  for (let i = 0; i < rounds && !stoppedBy && !options.signal.aborted; i++) {
    const current = { baseline: new Samples(), candidate: new Samples() }
    const order: Array<[LoadTarget, Samples, Samples]> = [
      [options.baseline, baseline, current.baseline],
      [options.candidate, candidate, current.candidate],
    ]
    if (i % 2 === 1) order.reverse()
    for (const [target, into, pairInto] of order) {
      if (stoppedBy) break
      progress(`round ${i + 1}/${rounds} ${target.side} ${roundMs}ms`)
      await segment(target, into, roundMs, perRound, pairInto)
    }
    if (current.baseline.count && current.candidate.count) pairs.push(current)
    done = i + 1
  }
  return finish({ candidate, baseline, rounds: done, roundMs, summaries, pairs }, stoppedBy, options.signal)
}

function finish(result: MeasureResult, stoppedBy: string | undefined, signal: AbortSignal): MeasureResult {
  const reason = stoppedBy ?? (signal.aborted ? 'cancelled' : undefined)
  return reason ? { ...result, stoppedBy: reason } : result
}
