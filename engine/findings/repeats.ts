/**
 * Merging repeated findings, in the verdict itself so every reporter and every consumer of the JSON
 * benefits: a header that changes on every request must not make a 1.6 MB verdict. Two passes, in report
 * order: findings with the same id become one (they are the same finding: only values that change from run
 * to run differ); then, within a check, the same message at the same place (severity, message id, pointer)
 * on `MIN_GROUP` or more requests becomes one. The first occurrence stays whole, with a count and a few
 * others as examples.
 */
import type { Finding, FindingExample } from '../verdict.js'

/** Occurrences of the same message at the same place that are merged across requests. */
export const MIN_GROUP = 4
/** Other occurrences kept as examples. */
export const MAX_EXAMPLES = 3
/** Characters of an example's `actual` value (as JSON) kept. */
const MAX_ACTUAL = 300

function example(finding: Finding): FindingExample {
  const out: FindingExample = { id: finding.id ?? '', message: finding.message }
  if (finding.step !== undefined) out.step = finding.step
  if (finding.pointer !== undefined) out.pointer = finding.pointer
  if (finding.actual !== undefined) {
    const json = JSON.stringify(finding.actual) ?? ''
    out.actual =
      json.length > MAX_ACTUAL ? `${json.slice(0, MAX_ACTUAL)}… (${json.length} characters)` : finding.actual
  }
  if (finding.evidence?.summary.length) out.summary = finding.evidence.summary
  if (finding.evidence?.reproduce !== undefined) out.reproduce = finding.evidence.reproduce
  return out
}

/** Folds `group` (in order) into its first finding; the others become its count and examples. */
function fold(group: readonly Finding[]): Finding {
  const [first, ...rest] = group
  if (rest.length === 0) return first!
  const count = group.reduce((n, f) => n + (f.repeats?.count ?? 1), 0)
  const examples = [...(first!.repeats?.examples ?? [])]
  for (const other of rest) {
    if (examples.length >= MAX_EXAMPLES) break
    examples.push(example(other))
    for (const nested of other.repeats?.examples ?? [])
      if (examples.length < MAX_EXAMPLES) examples.push(nested)
  }
  return { ...first!, repeats: { count, examples } }
}

/** Groups by key, each group folded (or not, as `merge` says) at the position of its first finding. */
function mergeBy(
  findings: readonly Finding[],
  key: (f: Finding) => string,
  merge: (group: readonly Finding[]) => boolean,
): Finding[] {
  const groups = new Map<string, Finding[]>()
  for (const finding of findings) {
    const k = key(finding)
    const group = groups.get(k)
    if (group) group.push(finding)
    else groups.set(k, [finding])
  }
  const out: Finding[] = []
  for (const finding of findings) {
    const group = groups.get(key(finding))!
    if (group.length < 2 || !merge(group)) out.push(finding)
    else if (group[0] === finding) out.push(fold(group))
  }
  return out
}

/** The findings of one check with repeats merged, in report order (a merged group where its first one was). */
export function mergeRepeats(findings: readonly Finding[]): Finding[] {
  if (findings.length < 2) return [...findings]
  // A finding without an id is only ever equal to itself.
  const ids = new Map<Finding, string>()
  findings.forEach((f, i) => ids.set(f, f.id ?? `\0${i}`))
  const byId = mergeBy(
    findings,
    (f) => ids.get(f)!,
    () => true,
  )
  const place = (f: Finding) =>
    JSON.stringify([f.severity, f.messageId ?? f.message.replace(/\d+/g, '#'), f.pointer ?? null])
  const occurrences = (group: readonly Finding[]) => group.reduce((n, f) => n + (f.repeats?.count ?? 1), 0)
  return mergeBy(byId, place, (group) => occurrences(group) >= MIN_GROUP)
}
