/**
 * `hybrid`: the `rules` floor (`paths`, `always`) is always selected and the LLM can only add plans.
 * When the LLM cannot answer (no key, network, 429 or 5xx after retries, timeout, invalid reply) the
 * result is the full `rules` selection, marked `degraded` with the reason: never a silent empty one.
 */
import { LlmError } from './errors.js'
import { llmSelection } from './llm.js'
import { byName, floorSelection, rulesSelection } from './rules.js'
import type { Selector, SelectorResult } from './types.js'

export const hybrid: Selector = {
  description:
    'The rules floor (paths, always) plus the plans the LLM adds; falls back to rules, marked degraded.',
  needsApiKey: true,
  async select(context): Promise<SelectorResult> {
    const floor = floorSelection(context.plans, context.diff, context.root)
    let answer: SelectorResult
    try {
      answer = await llmSelection(context)
    } catch (error) {
      if (!(error instanceof LlmError)) throw error
      const fallback = rulesSelection(context.plans, context.diff, context.options.threshold, context.root)
      return { ...fallback, degraded: true, degradedReason: error.message, model: context.options.model }
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
