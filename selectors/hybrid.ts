/**
 * `hybrid`: the deterministic selection — the floor (`always`, `paths`, the impact map, changed plan files)
 * and the lexical picks at or above the threshold (or the clear leader), i.e. everything `rules` selects —
 * always runs, and the model can only add plans. The model sees which plans those are and must account for
 * them like any other; rejecting one marks it doubtful, with the model's reason recorded, and it still runs.
 * When the LLM gives no accepted answer (no key, network, 429 or 5xx after retries, the deadline, a reply
 * that stays malformed or incomplete after one correction) the result is the `rules` selection, marked
 * `degraded` with the reason: never a silent empty one.
 */
import { LlmError } from './errors.js'
import { byName, rulesSelection } from './rules.js'
import type { Selector, SelectorContext, SelectorResult } from './types.js'

/** The plans hybrid runs whatever the model says: the full rules selection. */
export function hybridFloor(context: SelectorContext): SelectorResult {
  const { plans, diff, options, root, impact } = context
  return rulesSelection(plans, diff, options.threshold, root, impact)
}

export const hybrid: Selector = {
  description:
    'The rules selection (paths, always, impact map, strong lexical picks) plus the plans the LLM adds; falls back to rules, marked degraded.',
  needsApiKey: true,
  async select(context): Promise<SelectorResult> {
    const floor = hybridFloor(context).selected
    // The Messages API client loads on first use: a `rules` selection never pays for it.
    const { askModel, degradedSelection } = await import('./model.js')
    let answer: SelectorResult
    try {
      answer = await askModel(context, 'hybrid', floor)
    } catch (error) {
      if (!(error instanceof LlmError)) throw error
      return degradedSelection(context, error)
    }
    const doubts = new Map(answer.rejected.map((p) => [p.name, p.reason]))
    const floorNames = new Set(floor.map((p) => p.name))
    const kept = floor.map((p) => (doubts.has(p.name) ? { ...p, doubt: doubts.get(p.name)! } : p))
    const added = answer.selected.filter((p) => !floorNames.has(p.name))
    return {
      ...answer,
      selected: [...kept, ...added].sort(byName),
      rejected: answer.rejected.filter((p) => !floorNames.has(p.name)),
    }
  },
}
