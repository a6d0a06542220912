/**
 * Behavioural probes: what one request cannot show. Each sends a short sequence against one target and
 * judges the sequence — a write read back (mass assignment), a pattern's catastrophic backtracking timed
 * against the valid request, repeated failed attempts on an authentication operation, answers for an
 * existing and a missing account compared. They run one request at a time, after the authorization probes.
 */
import type { Case } from './cases.js'
import type { AdversarialParams, OracleName } from './params.js'
import { massAssignmentProbe } from './readback.js'
import type { Outcome, Session } from './session.js'
import { timingProbe } from './timing.js'
import { rateLimitProbe } from './rate-limit.js'
import { enumerationProbe } from './enumeration.js'

/** A finding of a behavioural probe, on the request that shows it. */
export interface BehaviourFinding {
  oracle: OracleName
  messageId: 'mass-assignment' | 'timing' | 'rate-limit' | 'enumeration' | 'enumeration-timing'
  /** The probe, for the message and for grouping: `mass assignment (role, isAdmin)`. */
  label: string
  /**
   * What makes it the same finding on another sandbox or run, when the label says more than that (the
   * timing probe's run length depends on the machine): `timing: /name`. @default the label
   */
  key?: string
  outcome: Outcome
  data: Record<string, string>
}

export interface BehaviourEnv {
  session: Session
  params: AdversarialParams
  oracles: ReadonlySet<OracleName>
  seed: number
  /** Sends one request; undefined when the phase's deadline passed (or the service is gone). */
  send(c: Case): Promise<Outcome | undefined>
  /** Longest wait for one answer, in ms. */
  caseTimeoutMs: number
}

/** A probe over one target (by position): its findings, and how many requests it sent. */
export type BehaviourProbe = (env: BehaviourEnv, at: number) => Promise<BehaviourFinding[]>

const PROBES: Array<{ oracle: OracleName; probe: BehaviourProbe }> = [
  { oracle: 'read-back', probe: massAssignmentProbe },
  { oracle: 'enumeration', probe: enumerationProbe },
  { oracle: 'timing', probe: timingProbe },
  // Last: a service that does limit attempts may lock the account the others use.
  { oracle: 'rate-limit', probe: rateLimitProbe },
]

/** True when the oracles ask for any behavioural probe: without one, the phase does not run (nor is reset after). */
export function wantsBehaviour(oracles: ReadonlySet<string>): boolean {
  return PROBES.some(({ oracle }) => oracles.has(oracle))
}

/** What the behavioural probes found, and which of them ran to their end. */
export interface BehaviourResult {
  findings: BehaviourFinding[]
  /** `comparedKey(target, oracle)` of each probe that got every answer it asked for. */
  completed: string[]
}

/** A behavioural probe's identity on a target, the same on both sides of a run. */
export const comparedKey = (targetId: string, oracle: OracleName): string =>
  `${targetId}\0behaviour:${oracle}`

/** The probe that a behavioural finding's message id comes from. */
export const BEHAVIOUR_ORACLE: Record<BehaviourFinding['messageId'], OracleName> = {
  'mass-assignment': 'read-back',
  enumeration: 'enumeration',
  'enumeration-timing': 'enumeration',
  timing: 'timing',
  'rate-limit': 'rate-limit',
}

/** Every behavioural probe the oracles ask for, on every target, in a fixed order. */
export async function runBehaviour(env: BehaviourEnv): Promise<BehaviourResult> {
  const out: BehaviourResult = { findings: [], completed: [] }
  for (const { oracle, probe } of PROBES) {
    if (!env.oracles.has(oracle)) continue
    for (let at = 0; at < env.session.bases.length; at++) {
      // A request the phase did not send (its deadline, a dead service) leaves the probe unfinished.
      let cut = false
      const send = async (c: Case) => {
        const outcome = await env.send(c)
        if (!outcome) cut = true
        return outcome
      }
      out.findings.push(...(await probe({ ...env, send }, at)))
      if (!cut) out.completed.push(comparedKey(env.session.bases[at]!.target.id, oracle))
    }
  }
  return out
}

/** Runs one behavioural probe on one target (reproducing a finding). */
export async function runProbe(
  env: BehaviourEnv,
  messageId: BehaviourFinding['messageId'],
  at: number,
): Promise<BehaviourFinding[]> {
  const oracle = BEHAVIOUR_ORACLE[messageId]
  const entry = PROBES.find((p) => p.oracle === oracle)!
  return entry.probe(env, at)
}
