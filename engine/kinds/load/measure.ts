/**
 * Runs a load spec against the sandboxes: a warm-up per side, then either one measured segment on the
 * candidate, or A/B rounds of one baseline and one candidate segment, in an order a seeded fair coin
 * draws for each round (so whatever the machine does during a round falls on either side alike, which
 * is what makes the sequential decision valid: see sequential.ts). After each round the caller may stop
 * the rounds (a clear decision). Samples are merged per side, so percentiles come from every request of
 * every round.
 */
import { createHash } from 'node:crypto'
import type { LoadTarget, SegmentResult } from './builtin.js'
import type { LoadMetrics } from './metrics.js'
import { Samples } from './samples.js'
import { minimumRounds, type LoadSpec } from './spec.js'
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
  /** The warm-up already ran (beside the other checks, `warmUpLoad`): the measurement starts with its rounds. */
  warmedUp?: boolean
  /** Seeds the coin that orders each round's two segments. @default 0 */
  seed?: number
  /** Rounds past the planned ones, while `afterRound` asks for more. @default 0 */
  confirmRounds?: number
  /**
   * Called after each complete A/B round with the rounds so far and each side's samples merged;
   * returning true ends the rounds (the decision is clear). With it, up to `confirmRounds` rounds past
   * the planned ones run until it returns true.
   */
  afterRound?(
    pairs: ReadonlyArray<{ baseline: Samples; candidate: Samples }>,
    merged: { baseline: Samples; candidate: Samples },
  ): boolean
}

export interface MeasureResult {
  candidate: Samples
  baseline?: Samples
  /** A/B round pairs run (1 without a baseline). */
  rounds: number
  /** A/B round pairs planned: the most that could have run. */
  plannedRounds: number
  roundMs: number
  /** True when `afterRound` ended the rounds before the planned number. */
  decidedEarly: boolean
  /** Why the load stopped early (an abortOnFail threshold, cancellation). */
  stoppedBy?: string
  /** The engine's own summaries of the candidate's segments (k6), last one last. */
  summaries: LoadMetrics[]
  /** Each A/B pair's samples, for per-pair ratios (empty without a baseline). */
  pairs: Array<{ baseline: Samples; candidate: Samples }>
}

/** True when round `round` measures the candidate first: a fair coin, fixed by the seed. */
export function candidateFirst(seed: number, round: number): boolean {
  return (createHash('sha256').update(`${seed}\0${round}`).digest()[0]! & 1) === 1
}

/**
 * Round length and count for a duration split into `rounds` pairs. Rounds are never shorter than the
 * engine allows; when that leaves fewer than `atLeast` rounds in the duration, the rounds outlast it.
 */
export function planRounds(
  durationMs: number,
  rounds: number,
  minRoundMs: number,
  atLeast = 1,
): { rounds: number; roundMs: number } {
  let roundMs = Math.max(minRoundMs, Math.floor(durationMs / rounds))
  if (minRoundMs >= 1000) roundMs = Math.round(roundMs / 1000) * 1000
  const fit = Math.min(rounds, Math.floor(durationMs / roundMs))
  return { rounds: Math.max(1, atLeast, fit), roundMs }
}

/**
 * The warm-up: the spec's requests for `warmupMs` on each side, measuring nothing. The two sides share no
 * process, so they warm up at the same time.
 */
export async function warmUpLoad(
  spec: LoadSpec,
  run: SegmentRunner,
  options: Pick<MeasureOptions, 'candidate' | 'baseline' | 'signal' | 'progress'>,
): Promise<void> {
  if (spec.warmupMs <= 0 || options.signal.aborted) return
  const targets = [options.baseline, options.candidate].filter((t): t is LoadTarget => t !== undefined)
  options.progress?.(`warm-up ${targets.map((t) => t.side).join(' and ')} ${spec.warmupMs}ms`)
  await Promise.all(
    targets.map((target) =>
      run(target, { durationMs: spec.warmupMs, maxRequests: spec.maxRequests, signal: options.signal }),
    ),
  )
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

  if (!options.warmedUp) await warmUpLoad(spec, run, options)

  if (!options.baseline || !baseline) {
    progress(`measuring candidate ${spec.durationMs}ms`)
    await segment(options.candidate, candidate, spec.durationMs, spec.maxRequests)
    return finish(
      {
        candidate,
        rounds: 1,
        plannedRounds: 1,
        roundMs: spec.durationMs,
        decidedEarly: false,
        summaries,
        pairs: [],
      },
      stoppedBy,
      options.signal,
    )
  }

  const { rounds, roundMs } = planRounds(
    spec.durationMs,
    spec.regression?.rounds ?? 1,
    options.minRoundMs ?? 250,
    spec.regression ? minimumRounds(spec.regression.ratios) : 1,
  )
  const perRound = Math.max(1, Math.floor(spec.maxRequests / rounds))
  let done = 0
  let decidedEarly = false
  const pairs: MeasureResult['pairs'] = []
  const limit = options.afterRound ? rounds + (options.confirmRounds ?? 0) : rounds
  for (let i = 0; i < limit && !stoppedBy && !decidedEarly && !options.signal.aborted; i++) {
    const current = { baseline: new Samples(), candidate: new Samples() }
    const order: Array<[LoadTarget, Samples, Samples]> = [
      [options.baseline, baseline, current.baseline],
      [options.candidate, candidate, current.candidate],
    ]
    if (candidateFirst(options.seed ?? 0, i)) order.reverse()
    for (const [target, into, pairInto] of order) {
      if (stoppedBy) break
      progress(`round ${i + 1}/${rounds}${i >= rounds ? ' (confirming)' : ''} ${target.side} ${roundMs}ms`)
      await segment(target, into, roundMs, perRound, pairInto)
    }
    done = i + 1
    if (!current.baseline.count || !current.candidate.count || stoppedBy) continue
    pairs.push(current)
    decidedEarly = i + 1 < limit && options.afterRound?.(pairs, { baseline, candidate }) === true
  }
  return finish(
    { candidate, baseline, rounds: done, plannedRounds: rounds, roundMs, decidedEarly, summaries, pairs },
    stoppedBy,
    options.signal,
  )
}

function finish(result: MeasureResult, stoppedBy: string | undefined, signal: AbortSignal): MeasureResult {
  const reason = stoppedBy ?? (signal.aborted ? 'cancelled' : undefined)
  return reason ? { ...result, stoppedBy: reason } : result
}
