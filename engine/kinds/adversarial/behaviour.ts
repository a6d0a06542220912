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
  messageId: 'mass-assignment' | 'timing' | 'rate-limit' | 'enumeration'
  /** The probe, for the message and for grouping: `mass assignment (role, isAdmin)`. */
  label: string
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

/** Every behavioural probe the oracles ask for, on every target, in a fixed order. */
export async function runBehaviour(env: BehaviourEnv): Promise<BehaviourFinding[]> {
  const out: BehaviourFinding[] = []
  for (const { oracle, probe } of PROBES) {
    if (!env.oracles.has(oracle)) continue
    for (let at = 0; at < env.session.bases.length; at++) out.push(...(await probe(env, at)))
  }
  return out
}
