/**
 * `rules`: deterministic and offline. A plan is selected when it is `always`, when the diff touches its
 * `paths`, or when its lexical relevance (BM25 of its hint, title, tags and name against the diff's
 * paths, identifiers and changed lines; see bm25.ts) reaches the threshold. Every other plan is
 * reported as rejected with its score, so "why not?" has an answer too.
 */
import path from 'node:path'
import type { Plan } from '../plans/types.js'
import { buildIndex, diffTerms, scorePlans } from './bm25.js'
import { matchPaths, pathsReason } from './paths.js'
import type { ImpactMatch } from './impact.js'
import type { ParsedDiff, RejectedPlan, SelectedPlan, Selector, SelectorResult } from './types.js'

/**
 * The floor: plans selected by `always` or `paths` alone, and plans whose own file the diff changes (when
 * `root`, the folder the diff's paths are relative to, is known). Hybrid keeps these whatever the LLM says.
 */
export function floorSelection(
  plans: readonly Plan[],
  diff: ParsedDiff,
  root?: string,
  impact?: ImpactMatch,
): SelectedPlan[] {
  const selected: SelectedPlan[] = []
  const byImpact = new Map((impact?.selected ?? []).map((p) => [p.name, p]))
  const changed = root ? changedFiles(diff) : undefined
  for (const plan of plans) {
    if (plan.always) {
      selected.push({ name: plan.name, source: 'always', reason: 'always: true' })
      continue
    }
    const match = matchPaths(plan, diff)
    if (match) {
      selected.push({ name: plan.name, source: 'paths', reason: pathsReason(match) })
      continue
    }
    const own = changed && planFile(plan, root!)
    if (own && changed.has(own)) {
      selected.push({ name: plan.name, source: 'paths', reason: `the plan itself changed (${own})` })
      continue
    }
    const mapped = byImpact.get(plan.name)
    if (mapped) selected.push(mapped)
  }
  return selected
}

/** The diff's added, modified, renamed and copied files (a deleted plan is not in the catalog). */
function changedFiles(diff: ParsedDiff): Set<string> {
  return new Set(diff.files.filter((f) => f.status !== 'deleted').map((f) => f.path))
}

/** The plan's file relative to `root`, with forward slashes, as the diff names files. */
function planFile(plan: Plan, root: string): string {
  return path
    .relative(root, path.join(plan.dir, path.basename(plan.file)))
    .split(path.sep)
    .join('/')
}

/**
 * The threshold is not a cliff: the plan that leads every other plan by {@link LEAD_RATIO} or more is
 * selected from half the threshold. A change that is plainly about one area (a one-line fix under
 * `src/cli/`) names few of the words of that area's hint — a long hint needs many matching words to reach
 * the threshold — yet no other plan comes near it. The rule needs no knowledge of the plans' words: it
 * compares scores only, and never applies to a change that reads like two areas at once.
 */
export const LEAD_RATIO = 2

/** The full rules selection: the floor plus lexical suggestions at or above `threshold`, and a clear leader. */
export function rulesSelection(
  plans: readonly Plan[],
  diff: ParsedDiff,
  threshold: number,
  root?: string,
  impact?: ImpactMatch,
): SelectorResult {
  const floor = floorSelection(plans, diff, root, impact)
  const floorNames = new Set(floor.map((p) => p.name))
  const scores = scorePlans(buildIndex(plans), diffTerms(diff))
  const leader = clearLeader(
    scores.map((s) => s.score),
    threshold,
  )
  const selected: SelectedPlan[] = [...floor]
  const rejected: RejectedPlan[] = []
  plans.forEach((plan, i) => {
    if (floorNames.has(plan.name)) return
    const { score, terms } = scores[i]!
    const shown = terms.slice(0, 6).join(', ')
    if (score >= threshold && score > 0) {
      selected.push({
        name: plan.name,
        source: 'rules',
        reason: `hint terms: ${shown} (score ${score})`,
        score,
      })
    } else if (leader && leader.index === i) {
      selected.push({
        name: plan.name,
        source: 'rules',
        reason: `hint terms: ${shown} (score ${score}, below ${threshold} but ${leadText(leader)})`,
        score,
      })
    } else {
      const why = terms.length
        ? `score ${score} below ${threshold} (terms: ${shown})`
        : 'no path or term in common'
      rejected.push({ name: plan.name, source: 'rules', reason: why, score })
    }
  })
  return {
    selected: selected.sort(byName),
    rejected: rejected.sort(byName),
    unknown: [],
    degraded: false,
  }
}

function leadText(leader: { ratio: number; next: number }): string {
  return leader.next > 0 ? `${leader.ratio}× the next plan's ${leader.next}` : 'no other plan scores'
}

/** The plan whose score is at least half the threshold and {@link LEAD_RATIO}× every other plan's. */
export function clearLeader(
  scores: readonly number[],
  threshold: number,
): { index: number; ratio: number; next: number } | undefined {
  if (!(threshold > 0 && threshold < 1) || scores.length < 2) return undefined
  let index = 0
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[index]!) index = i
  const best = scores[index]!
  const next = Math.max(...scores.filter((_, i) => i !== index))
  if (best < threshold / 2 || best < LEAD_RATIO * next) return undefined
  const ratio = next > 0 ? Math.round((best / next) * 10) / 10 : Infinity
  return { index, ratio, next }
}

export function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

export const rules: Selector = {
  description: 'Deterministic and offline: plan paths, always, and lexical relevance of hints to the diff.',
  needsApiKey: false,
  async select({ plans, diff, options, root, impact }) {
    return rulesSelection(plans, diff, options.threshold, root, impact)
  },
}
