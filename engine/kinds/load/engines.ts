/**
 * The load engines, keyed by the word a plan's `engine:` uses, and the choice between them:
 * `builtin` (autocannon in-process), `k6` (the k6 binary), `auto` (k6 when installed, else built-in).
 */
import { runBuiltinSegment } from './builtin.js'
import { K6NotFoundError, LoadSafetyError } from './errors.js'
import { K6_INSTALL_HINT, findK6, runK6Segment } from './k6/runner.js'
import type { SegmentRunner } from './measure.js'
import type { LoadSpec } from './spec.js'

export interface SelectedEngine {
  name: 'builtin' | 'k6'
  run: SegmentRunner
  /** Shortest A/B round the engine measures well. */
  minRoundMs: number
  /** Why this engine was chosen, when the plan did not name it. */
  note?: string
}

type EngineFactory = (spec: LoadSpec, k6Binary?: string) => SelectedEngine

export const loadEngines = {
  builtin: (spec) => ({
    name: 'builtin',
    run: (target, segment) => runBuiltinSegment(spec, target, segment),
    // autocannon paces `rate` per second: rounds of whole seconds keep the rate honest. A closed model has no
    // pace to keep: a segment ends within a 10 ms tick of its time (builtin.ts), the same on both sides, so
    // rounds of 100 ms still measure what they are asked to, and a sequential decision, which stops after the
    // round that settles it, pays a shorter round each time it looks.
    minRoundMs: spec.model.kind === 'rate' ? 1000 : 100,
  }),
  k6: (spec, k6Binary) => ({
    name: 'k6',
    run: async (target, segment) => {
      const result = await runK6Segment(spec, target, {
        k6: k6Binary!,
        durationMs: segment.durationMs,
        signal: segment.signal,
      })
      const samples = result.samples
      if (!samples)
        throw new LoadSafetyError('k6 wrote no --out json points; vigil needs them to compute percentiles')
      return result.summary ? { samples, summary: result.summary } : { samples }
    },
    // Each segment starts a k6 process: rounds shorter than a second would be mostly start-up.
    minRoundMs: 1000,
  }),
} satisfies Record<string, EngineFactory>

export type LoadEngineName = keyof typeof loadEngines

/** Picks the engine for a spec. Throws K6NotFoundError (with how to install k6) when k6 is required and absent. */
export async function selectEngine(
  spec: LoadSpec,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SelectedEngine> {
  if (spec.engine === 'builtin') {
    if (spec.script)
      throw new LoadSafetyError('k6.script runs only with the k6 engine; remove `engine: builtin`')
    return loadEngines.builtin(spec)
  }
  const k6 = await findK6(spec.k6Path, env)
  if (k6) return loadEngines.k6(spec, k6)
  const where = spec.k6Path ? `k6 not found at ${spec.k6Path}` : 'k6 not found on PATH'
  if (spec.engine === 'k6' || spec.script) {
    throw new K6NotFoundError(
      `${where}; this check needs it (${spec.script ? 'k6.script' : 'engine: k6'}): ${K6_INSTALL_HINT}`,
    )
  }
  return { ...loadEngines.builtin(spec), note: `${where}; the built-in engine (autocannon) ran this load` }
}
