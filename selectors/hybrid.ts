/**
 * `hybrid`: the `rules` floor (`paths`, `always`, changed plan files) is always selected and the LLM can
 * only add plans. When the LLM gives no accepted answer (no key, network, 429 or 5xx after retries, the
 * deadline, a malformed reply, an answer that leaves a plan out or names one not in the catalog) the
 * result is the full `rules` selection, marked `degraded` with the reason: never a silent empty one.
 */
import { LlmError } from './errors.js'
import { byName, floorSelection } from './rules.js'
import type { Selector, SelectorResult } from './types.js'

export const hybrid: Selector = {
  description:
    'The rules floor (paths, always) plus the plans the LLM adds; falls back to rules, marked degraded.',
  needsApiKey: true,
  async select(context): Promise<SelectorResult> {
    const floor = floorSelection(context.plans, context.diff, context.root, context.impact)
    // The Messages API client loads on first use: a `rules` selection never pays for it.
    const { askModel, degradedSelection } = await import('./model.js')
    let answer: SelectorResult
    try {
      answer = await askModel(context, 'hybrid')
    } catch (error) {
      if (!(error instanceof LlmError)) throw error
      return degradedSelection(context, error)
    }
    const floorNames = new Set(floor.map((p) => p.name))
    const added = answer.selected.filter((p) => !floorNames.has(p.name))
    return {
      ...answer,
      selected: [...floor, ...added].sort(byName),
      rejected: answer.rejected.filter((p) => !floorNames.has(p.name)),
    }
  },
}
