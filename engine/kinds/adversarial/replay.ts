/**
 * Replaying an adversarial finding: the one case that found it — the generated case of its index, a
 * target's valid request, an authorization probe (with its read-back, for a foreign write) or a suggested
 * case — rebuilt from the same seed, sent to the candidate and then the baseline (each after its own
 * setup), and judged by the same oracles. A behavioural finding (mass assignment, timing, rate limit,
 * enumeration) runs its probe again on its operation: the finding with the same probe label is reported
 * when it shows again.
 */
import { ReplayError } from '../../api/replay.js'
import type { CheckContext } from '../../api/kind.js'
import type { Finding } from '../../verdict.js'
import { buildCase, CaseGenerator, type Case } from './cases.js'
import {
  caseTimeoutOf,
  DEFAULT_CASES,
  MAX_BODY_BYTES,
  MAX_CASES,
  ORACLES,
  type AdversarialParams,
  type OracleName,
} from './params.js'
import { authzProbes, type Probe } from './probes.js'
import { readCase } from './readback.js'
import { reportItem, type Item } from './report.js'
import { BEHAVIOUR_ORACLE, runProbe, type BehaviourFinding } from './behaviour.js'
import { judge, openSession, send, type Session } from './session.js'
import { suggestedCases } from './suggested.js'
import { resolveTargets, type Target } from './targets.js'

type Ctx = CheckContext<AdversarialParams, 'http'>

interface Located {
  case: Case
  /** The authorization probe it is, when it is one (a foreign write is read back). */
  probe?: Probe
  /** Statuses a probe or a suggested case must get. */
  expected?: { statuses: string; accepts(status: number): boolean; messageId: 'authz' | 'suggested' }
}

function locate(
  ctx: Ctx,
  session: Session,
  targets: readonly Target[],
  at: number,
  details: Record<string, unknown>,
  seed: number,
): Located | undefined {
  const p = ctx.params
  const kind = details.kind
  const description = details.description
  if (kind === 'control') return { case: buildCase(session.bases[at]!, -1) }
  if (kind === 'probe') {
    const captureNames = (p.setup ?? []).flatMap((s) => Object.keys(s.capture ?? {}))
    const probe = authzProbes(
      session.bases,
      session.principals,
      seed,
      captureNames,
      p.foreignStatus ?? [401, 403, 404],
    ).find((candidate) => candidate.case.target === targets[at] && candidate.case.description === description)
    return (
      probe && {
        case: probe.case,
        probe,
        expected: {
          statuses: probe.expected.join(' or '),
          accepts: (s) => probe.expected.includes(s),
          messageId: 'authz',
        },
      }
    )
  }
  if (kind === 'suggested') {
    const suggested = suggestedCases(p.suggested ?? [], session, targets).find(
      (s) => s.case.target === targets[at] && (s.case.description === description || s.name === description),
    )
    return (
      suggested && {
        case: suggested.case,
        expected: {
          statuses: suggested.expected,
          accepts: (s) => suggested.accepts(s),
          messageId: 'suggested',
        },
      }
    )
  }
  if (typeof details.case !== 'number') return undefined
  const maxBodyBytes = Math.min(p.maxBodyBytes ?? MAX_BODY_BYTES, MAX_BODY_BYTES)
  const planned = Math.min(p.cases ?? DEFAULT_CASES, MAX_CASES)
  const generated = new CaseGenerator(session.bases, seed, maxBodyBytes, planned).generate(details.case)
  return generated.target === targets[at] ? { case: generated } : undefined
}

export async function replayCase(ctx: Ctx, finding: Finding): Promise<void> {
  const details = finding.evidence?.details ?? {}
  if (finding.step === undefined || details.kind === undefined)
    throw new ReplayError(
      `this finding (${finding.messageId ?? 'a note'}) follows from the whole check, not from one case; run the check again (vigil run --plan ${ctx.plan.name})`,
    )
  if (finding.messageId === 'differential')
    throw new ReplayError(
      `a differential finding compares the answers to two cases (a condition made always true, then always false), which are not rebuilt one at a time; run the check again (vigil run --plan ${ctx.plan.name})`,
    )
  const p = ctx.params
  const seed = typeof details.seed === 'number' ? details.seed : (p.seed ?? ctx.seed)
  const targets = await resolveTargets(p, ctx.plan.dir, ctx.plan.fileRoots)
  const at = targets.findIndex((t) => t.id === finding.step)
  if (at < 0)
    throw new ReplayError(
      `operation "${finding.step}" is no longer attacked by the check; it attacks ${targets.map((t) => t.id).join(', ')}`,
    )
  const oracles = new Set<OracleName>(p.oracles ?? ORACLES)
  const { candidate, baseline } = ctx.sandboxes
  const behavioural = Object.hasOwn(BEHAVIOUR_ORACLE, finding.messageId ?? '')
    ? (finding.messageId as BehaviourFinding['messageId'])
    : undefined
  for (const sandbox of baseline ? [candidate, baseline] : [candidate]) {
    const session = await openSession(ctx, sandbox, targets, seed)
    if (!session) continue
    if (behavioural) {
      await replayBehaviour(ctx, session, behavioural, at, details, seed, oracles)
      continue
    }
    const located = locate(ctx, session, targets, at, details, seed)
    if (!located)
      throw new ReplayError(
        `the ${String(details.kind)} case "${String(details.description ?? details.case)}" of ${finding.step} cannot be rebuilt from the plan any more`,
      )
    const c = located.case
    const outcome = judge(ctx, await send(ctx, session, c, 10_000), oracles)
    const what =
      c.kind === 'control'
        ? 'the valid request'
        : c.kind === 'probe'
          ? `probe: ${c.description}`
          : c.kind === 'suggested'
            ? `suggested case "${c.description}"`
            : `case ${c.index} (${c.kind}: ${c.description})`
    const item = { outcome, target: at, sequence: c.index, what }
    for (const failure of outcome.failures)
      reportItem(ctx, { ...item, failure, messageId: failure.oracle }, 1, seed, sandbox.name)
    const status = outcome.exchange?.response.status ?? 0
    const expected = located.expected
    if (expected && !expected.accepts(status))
      reportItem(
        ctx,
        {
          ...item,
          failure: { oracle: expected.messageId === 'authz' ? 'authz' : 'rejects-invalid', status },
          expected: expected.statuses,
          messageId: expected.messageId,
        },
        1,
        seed,
        sandbox.name,
      )
    const readBack = located.probe?.readBack
    if (finding.messageId === 'foreign-write' && readBack && outcome.exchange) {
      const read = readCase(readBack.read, outcome, `${located.probe!.label}: read back as the owner`)
      const answer = read && judge(ctx, await send(ctx, session, read, 10_000), oracles)
      const leak = read && `${read.request.method} ${read.request.path.split('?')[0]}`
      if (answer?.exchange?.response.text().includes(readBack.marker))
        reportItem(
          ctx,
          {
            ...item,
            what: `probe: ${located.probe!.label}`,
            failure: {
              oracle: 'read-back',
              status,
              data: { leak: leak!, match: `the value it wrote ("${readBack.marker}")` },
            },
            messageId: 'foreign-write',
          },
          1,
          seed,
          sandbox.name,
        )
    }
  }
}

/** The behavioural probe of a finding, run again on its operation: the finding it shows again, reported. */
async function replayBehaviour(
  ctx: Ctx,
  session: Session,
  messageId: BehaviourFinding['messageId'],
  at: number,
  details: Record<string, unknown>,
  seed: number,
  oracles: ReadonlySet<OracleName>,
): Promise<void> {
  const p = ctx.params
  const caseTimeoutMs = caseTimeoutOf(p, ctx.timeoutMs)
  const found = await runProbe(
    {
      session,
      params: p,
      oracles,
      seed,
      caseTimeoutMs,
      send: async (c) => judge(ctx, await send(ctx, session, c, caseTimeoutMs), oracles),
    },
    messageId,
    at,
  )
  const probe = typeof details.probe === 'string' ? details.probe : details.description
  for (const b of found) {
    if ((b.key ?? b.label) !== probe && b.label !== details.description) continue
    const item: Item = {
      outcome: b.outcome,
      failure: { oracle: b.oracle, status: b.outcome.exchange?.response.status ?? 0, data: b.data },
      target: at,
      sequence: -1,
      what: `probe: ${b.label}`,
      messageId: b.messageId,
      probe: b.key ?? b.label,
    }
    reportItem(ctx, item, 1, seed, session.sandbox.name)
  }
}
