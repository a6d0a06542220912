/**
 * Findings of an adversarial run: every failure sorted into a fixed order (target, oracle, status, then
 * the case or probe that found it), grouped by (operation, oracle, mutation kind, probe label) — the first case
 * stands for the others, says how many there were and lists them with their statuses — and reported with its
 * curl line, the response excerpt, the seed and the case index. The status is not part of the group: one hole
 * answering 500 to some cases and 502 to others is one finding.
 */
import { httpEvidence } from '../../api/evidence.js'
import type { CheckContext } from '../../api/kind.js'
import type { AdversarialParams } from './params.js'
import { clipRecorded, reproduceCommand } from './reproduce.js'
import type { Failure, Outcome } from './session.js'

export const ORACLE_ORDER = [
  'no-server-error',
  'rejects-invalid',
  'no-leak',
  'injection-evidence',
  'differential',
  'redirect',
  'crashed',
  'authz',
  'foreign-write',
  'mass-assignment',
  'enumeration',
  'enumeration-timing',
  'timing',
  'rate-limit',
  'control-rejected',
  'healthy',
  'security-headers',
] as const

/** Most cases a group lists in its details. */
const MAX_LISTED = 20

export interface Item {
  outcome: Outcome
  failure: Failure
  /** Position of the target in the block. */
  target: number
  /** Order among the target's requests: controls, cases by index, probes, suggested cases. */
  sequence: number
  /** What was sent, for the message: `case 12 (boundary: …)`, `probe: no credentials`. */
  what: string
  /** The statuses that would have passed, for authz and suggested cases. */
  expected?: string
  /** The oracle (or `suggested`) named in the message id. */
  messageId: string
  /** A behavioural probe's `comparedKey`: the baseline compared it when it ran that probe to its end. */
  compared?: string
  /** A behavioural finding's identity (its probe label, or less): how `vigil reproduce` finds it again. */
  probe?: string
}

/** The items that remain after deduplication, each with how many it stands for (and which); sorted. */
export function dedupe(items: readonly Item[]): Array<{ item: Item; count: number; members: Item[] }> {
  const rank = (m: string) => {
    const i = (ORACLE_ORDER as readonly string[]).indexOf(m)
    return i < 0 ? ORACLE_ORDER.length : i
  }
  const sorted = [...items].sort(
    (a, b) =>
      a.target - b.target ||
      rank(a.messageId) - rank(b.messageId) ||
      a.failure.status - b.failure.status ||
      a.sequence - b.sequence,
  )
  const groups = new Map<string, { item: Item; count: number; members: Item[] }>()
  for (const item of sorted) {
    // A mass assignment or a forged token is not hidden behind a wrong-type case or another probe.
    const c = item.outcome.case
    const label = c.kind === 'probe' ? c.description : ''
    const key = `${c.target.id}\0${item.messageId}\0${c.kind}\0${label}`
    const group = groups.get(key)
    if (group) {
      group.count++
      group.members.push(item)
    } else groups.set(key, { item, count: 1, members: [item] })
  }
  return [...groups.values()]
}

export function reportItem(
  ctx: CheckContext<AdversarialParams, 'http'>,
  item: Item,
  count: number,
  seed: number,
  sandbox: string,
  /** The baseline never got this request (a replay cut short): it counts, but could not be shown to be new. */
  partial = false,
  /** Every item of the group the finding stands for (the first is `item`): listed in its details. */
  members: readonly Item[] = [item],
): void {
  const { outcome, failure } = item
  const c = outcome.case
  const redactor = ctx.clients.http.redactor
  const recorded = outcome.exchange?.recorded()
  const request = recorded?.request ?? outcome.error?.request
  const status = failure.status === 0 ? 'no response' : String(failure.status)
  const details: Record<string, unknown> = {
    oracle: item.messageId,
    seed,
    kind: c.kind,
    description: redactor.text(c.description),
    occurrences: count,
  }
  if (c.kind !== 'control' && c.kind !== 'probe' && c.kind !== 'suggested') details.case = c.index
  if (c.invalid !== undefined) details.invalid = c.invalid
  if (failure.data?.reason) details.reason = redactor.text(failure.data.reason)
  if (item.probe !== undefined) details.probe = redactor.text(item.probe)
  if (partial) details.replayed = false
  const statuses = [...new Set(members.map((m) => m.failure.status))].sort((a, b) => a - b)
  if (statuses.length > 1) details.statuses = statuses
  // The group's cases, each with its case index or probe label, so none hides behind the first.
  if (members.length > 1)
    details.cases = members.slice(0, MAX_LISTED).map((m) => ({
      what: redactor.text(m.what),
      status: m.failure.status === 0 ? 'no response' : m.failure.status,
      ...(m.outcome.case.index >= 0 ? { case: m.outcome.case.index } : {}),
    }))
  const more = count > 1 ? ` (and ${count - 1} more like it)` : ''
  ctx.report({
    messageId: item.messageId,
    severity:
      item.messageId === 'control-rejected' || item.messageId === 'enumeration-timing'
        ? 'warning'
        : item.messageId === 'security-headers'
          ? (ctx.params.securityHeaders ?? 'warning')
          : item.messageId === 'rate-limit'
            ? ((ctx.params.rateLimit || undefined)?.severity ?? 'warning')
            : 'error',
    data: {
      operation: c.target.id,
      what: redactor.text(item.what) + more,
      status,
      seed,
      expected: item.expected ?? '',
      leak: failure.data?.leak ?? '',
      match: failure.data?.match ?? '',
      reason: failure.data?.reason ? `: ${redactor.text(failure.data.reason)}` : '',
    },
    step: c.target.id,
    ...(partial ? { partial: true } : {}),
    ...(c.pointer !== undefined ? { pointer: c.pointer } : {}),
    ...(item.expected ? { expected: item.expected } : {}),
    actual: failure.status === 0 ? 'no response' : failure.status,
    evidence: httpEvidence({
      sandbox,
      ...(request ? { request: clipRecorded(request) } : {}),
      ...(recorded ? { response: recorded.response, ...(recorded.body ? { body: recorded.body } : {}) } : {}),
      ...(request ? { reproduce: reproduceCommand(request, c.request.body, redactor) } : {}),
      ...((recorded?.window ?? outcome.error?.window)
        ? { window: (recorded?.window ?? outcome.error?.window)! }
        : {}),
      details,
    }),
  })
}
