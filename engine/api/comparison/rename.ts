/** Rename detection, to explain a removed field: "field /totalCents was removed; candidate has /total_cents". */
import { distance } from 'fastest-levenshtein'
import type { DifferenceGroup } from './diff.js'
import { lastToken, parent } from '../pointer.js'
import { jsonType } from '../values.js'

/** `totalCents`, `total_cents`, `Total-Cents` → `totalcents`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[\s_.-]+/g, '')
}

/** True when two field names plausibly name the same thing (same normalised name, or one or two letters apart). */
export function similarNames(a: string, b: string): boolean {
  const x = normalizeName(a)
  const y = normalizeName(b)
  if (x === y) return true
  const longest = Math.max(x.length, y.length)
  return longest >= 6 && distance(x, y) <= (longest >= 12 ? 2 : 1)
}

/**
 * The added sibling a removed field was most likely renamed to: same parent, similar name, same JSON
 * type of value. Undefined when there is none.
 */
export function renameTarget(
  removed: DifferenceGroup,
  groups: readonly DifferenceGroup[],
): DifferenceGroup | undefined {
  const parentPath = parent(removed.path)
  const name = lastToken(removed.path)
  const type = jsonType(removed.examples[0]?.baseline)
  let best: { group: DifferenceGroup; score: number } | undefined
  for (const group of groups) {
    if (group.kind !== 'added' || parent(group.path) !== parentPath) continue
    const candidateName = lastToken(group.path)
    if (!similarNames(name, candidateName)) continue
    if (group.examples.length && removed.examples.length && jsonType(group.examples[0]!.candidate) !== type)
      continue
    const score = distance(normalizeName(name), normalizeName(candidateName))
    if (!best || score < best.score) best = { group, score }
  }
  return best?.group
}
