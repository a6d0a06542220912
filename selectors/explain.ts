/**
 * `vigil select --explain`: why each plan was or was not picked, layer by layer — the floor (`always`,
 * `paths`, the plan's own file, the impact map), the lexical score with its margin to the threshold (the
 * threshold is not a cliff: a plan 0.01 below it reads differently from one at 0), and the model's answer.
 */
import type { Plan } from '../plans/types.js'
import { buildIndex, diffTerms, scorePlans } from './bm25.js'
import { clearLeader } from './rules.js'
import type { SelectionRecord } from './record.js'
import type { ParsedDiff } from './types.js'

export interface PlanExplanation {
  name: string
  selected: boolean
  /** One line per layer that has something to say. */
  layers: Array<{ layer: 'floor' | 'impact' | 'rules' | 'llm'; says: string }>
  score: number
  /** Score minus threshold: negative below it. */
  margin: number
}

export function explainSelection(
  plans: readonly Plan[],
  diff: ParsedDiff,
  record: SelectionRecord,
  threshold: number,
): PlanExplanation[] {
  const scores = scorePlans(buildIndex(plans), diffTerms(diff))
  const leader = clearLeader(
    scores.map((s) => s.score),
    threshold,
  )
  const picked = new Map(record.plans.map((p) => [p.name, p]))
  const rejected = new Map(record.rejected.map((p) => [p.name, p]))
  return plans.map((plan, i) => {
    const { score, terms } = scores[i]!
    const layers: PlanExplanation['layers'] = []
    const sel = picked.get(plan.name)
    if (sel && (sel.source === 'always' || sel.source === 'paths'))
      layers.push({ layer: 'floor', says: sel.reason })
    else layers.push({ layer: 'floor', says: plan.always ? 'always' : 'no paths match, plan file unchanged' })
    if (record.impact)
      layers.push({
        layer: 'impact',
        says:
          sel?.source === 'impact'
            ? sel.reason
            : record.impact.plans.includes(plan.name)
              ? 'selected (see floor)'
              : 'no changed line in code it runs',
      })
    const margin = Math.round((score - threshold) * 1000) / 1000
    const lead = leader?.index === i ? `; clear leader (${leader.ratio}× the next)` : ''
    layers.push({
      layer: 'rules',
      says: `score ${score}, threshold ${threshold}, margin ${margin >= 0 ? '+' : ''}${margin}${lead}${terms.length ? ` (terms: ${terms.slice(0, 6).join(', ')})` : ''}`,
    })
    const llmSays =
      sel?.doubt !== undefined
        ? `doubts it (it runs anyway): ${sel.doubt}`
        : sel?.source === 'llm'
          ? sel.reason
          : rejected.get(plan.name)?.source === 'llm'
            ? rejected.get(plan.name)!.reason
            : undefined
    if (llmSays !== undefined) layers.push({ layer: 'llm', says: llmSays })
    return { name: plan.name, selected: Boolean(sel), layers, score, margin }
  })
}

export function renderExplanation(items: readonly PlanExplanation[]): string {
  const out = ['', 'Why, plan by plan:']
  for (const item of items) {
    out.push(`  ${item.name}: ${item.selected ? 'selected' : 'not selected'}`)
    for (const { layer, says } of item.layers) out.push(`    ${layer.padEnd(6)} ${says}`)
  }
  return `${out.join('\n')}\n`
}
