/**
 * One side of an adversarial run, in phases: the valid requests and the generated cases, the
 * authorization probes, the suggested cases. Each phase starts nothing new past its deadline (what is in
 * flight finishes, bounded by the request end). With a reset hook, after each phase the side's health is
 * checked (the candidate's), the hook brings the sandbox back to a clean state, and setup runs again so
 * the next phase's captured ids exist.
 */
import pLimit from 'p-limit'
import type { CheckContext } from '../../api/kind.js'
import type { Sandbox } from '../../api/sandbox.js'
import { buildCase, CaseGenerator, type Case } from './cases.js'
import type { AdversarialParams, OracleName } from './params.js'
import { authzProbes, type Probe } from './probes.js'
import { reset } from './reset.js'
import { withoutEchoes } from './content.js'
import { sentBy } from './leaks.js'
import { judge, openSession, send, timedOut, type Outcome, type Session } from './session.js'
import { runBehaviour, wantsBehaviour, type BehaviourFinding } from './behaviour.js'
import { Deaths, type Crash } from './deaths.js'
import { readCase } from './readback.js'
import { suggestedCases, type Suggested } from './suggested.js'
import type { Target } from './targets.js'

type Ctx = CheckContext<AdversarialParams, 'http'>

/** What one side was sent and how it answered. */
export interface SideResult {
  outcomes: Outcome[]
  /**
   * `index`: the probe's place in the side's list of probes (the same on both sides, whichever were sent);
   * `stuck`: a foreign write's marker read back as the owner.
   */
  probes: Array<{ probe: Probe; index: number; outcome: Outcome; stuck?: Outcome }>
  /** What the behavioural probes found. */
  behaviour: BehaviourFinding[]
  /** The behavioural probes that ran to their end (`comparedKey`), found something or not. */
  behaviourCompared: string[]
  /** A service that stopped answering: the case in flight when it died, and what was not sent after. */
  crashed?: Crash[]
  /** `index`: the case's place in the plan's list of suggested cases. */
  suggested: Array<{ suggested: Suggested; index: number; outcome: Outcome }>
  /** Generated cases sent. */
  sent: number
  /** Requests that got no answer within the per-case timeout. */
  timedOut: number
  /** What the phases would have sent without deadlines or a failed reset (behaviour: targets). */
  planned: { cases: number; probes: number; behaviour: number; suggested: number }
  /** Why a phase stopped early or did not run, when one did. */
  stopped?: string
}

export type Phase = 'cases' | 'probes' | 'behaviour' | 'suggested'

/** How a phase reads in a sentence: "after the generated cases". */
export const PHASE_WORDS: Record<Phase, string> = {
  cases: 'the generated cases',
  probes: 'the authorization probes',
  behaviour: 'the behavioural probes',
  suggested: 'the suggested cases',
}

export interface SideOptions {
  sandbox: Sandbox
  targets: Target[]
  seed: number
  maxBodyBytes: number
  oracles: ReadonlySet<OracleName>
  concurrency: number
  /** The cases the run plans (the sweep's share depends on it; a replay passes the candidate's). */
  planned: number
  /** Longest wait for one answer, in ms. */
  caseTimeoutMs: number
  /** Generated cases `0..count-1`, or exactly these indices (a replay). */
  count?: number
  indices?: readonly number[]
  /** Nothing new starts after this (epoch ms). A replay honours it for probes and suggested cases too. */
  deadline: number
  /** When the deadline also holds for probes and suggested cases (a replay). @default false */
  strict?: boolean
  /**
   * Requests in flight time out by then (epoch ms), at most 10 s after they start and at least 1 s (a
   * candidate deserves a fair answer) or 250 ms (a replay, whose late failures do not count).
   */
  requestEnd: number
  /**
   * Ends the side wherever it is (a replay's hard stop: the requests' end): `ctx.signal` must abort with it.
   * What was answered before is kept, and `stopped` says where it was cut. @default none
   */
  stop?: AbortSignal
  /** Between phases, with a reset hook: is the side healthy? Reports what it finds. */
  afterPhase?(phase: Phase, last: boolean): Promise<void>
}

/** Runs the phases on one side; undefined when its setup failed (reported). */
export async function runSide(ctx: Ctx, options: SideOptions): Promise<SideResult | undefined> {
  const p = ctx.params
  const stop = options.stop
  // The side's hard stop ends what is in flight (setup, requests, a reset): that is not an error of the check.
  const cutBy = (error: unknown) =>
    error !== undefined && stop?.aborted === true && ctx.signal.reason === stop.reason
  const ranOut = (during: string) => `its share of the check's time ran out during ${during}`
  let session: Session | undefined
  try {
    session = await openSession(ctx, options.sandbox, options.targets, options.seed)
  } catch (error) {
    if (!cutBy(error)) throw error
  }
  // Setup cut by the stop (it may have ended as a failed request rather than thrown).
  if (cutBy(true)) return { ...emptySide(), stopped: ranOut(`setup on the ${options.sandbox.name}`) }
  if (!session) return undefined
  const captureNames = (p.setup ?? []).flatMap((s) => Object.keys(s.capture ?? {}))
  const probeList = (s: Session) =>
    // The foreign write's read-back rides on the authorization probes.
    options.oracles.has('authz') || options.oracles.has('read-back')
      ? authzProbes(s.bases, s.principals, options.seed, captureNames, p.foreignStatus ?? [401, 403, 404])
      : []
  const suggestedList = (s: Session) => suggestedCases(p.suggested ?? [], s, options.targets)
  const indices = options.indices ?? Array.from({ length: options.count ?? 0 }, (_, i) => i)
  const result: SideResult = {
    ...emptySide(),
    planned: {
      cases: indices.length,
      probes: probeList(session).length,
      behaviour: wantsBehaviour(options.oracles) ? session.bases.length : 0,
      suggested: suggestedList(session).length,
    },
  }
  const limit = pLimit(options.concurrency)
  const strict = options.strict ?? false
  const floor = strict ? 250 : 1000
  const timeout = () => Math.max(floor, Math.min(options.caseTimeoutMs, options.requestEnd - Date.now()))
  // The valid answers, echoes cut: what they already show is no evidence of an injection.
  const controlText = new Map<string, string>()
  const deaths = new Deaths(ctx, options.sandbox, Math.min(options.caseTimeoutMs, 2000))
  const run = async (c: Case): Promise<Outcome | undefined> => {
    // Nothing more is sent into a service that died.
    if (deaths.skip(c)) return undefined
    const token = deaths.started(c)
    const sent = await send(ctx, session!, c, timeout())
    if (await deaths.settled(token, sent)) return undefined
    if (timedOut(sent)) result.timedOut++
    const outcome = judge(ctx, sent, options.oracles, controlText.get(c.target.id))
    // A replay request that got no answer after the deadline was cut by it, not refused by the service; one
    // cut by its own timeout (shorter than the candidate got, to keep to the replay's share) shows a slow
    // baseline, not the same failure: neither was replayed.
    if (strict && !outcome.exchange && (Date.now() > options.deadline || timedOut(sent))) return undefined
    return outcome
  }
  const late = () => strict && Date.now() > options.deadline
  /** After a foreign write, the resource read back as its owner: the outcome when the marker is there. */
  const readForeignWrite = async (probe: Probe, outcome: Outcome | undefined) => {
    if (!probe.readBack || !outcome?.exchange || !options.oracles.has('read-back')) return {}
    const c = readCase(probe.readBack.read, outcome, `${probe.label}: read back as the owner`)
    const read = c && (await run(c))
    const body = read?.exchange?.response.text() ?? ''
    return read && body.includes(probe.readBack.marker) ? { stuck: read } : {}
  }

  const phases: Array<{ phase: Phase; go(s: Session): Promise<void> }> = [
    {
      phase: 'cases',
      go: async (s) => {
        const generator = new CaseGenerator(s.bases, options.seed, options.maxBodyBytes, options.planned)
        await settle(
          s.bases.map((base) => limit(() => run(buildCase(base, -1)))),
          (controls) => {
            for (const o of controls) {
              if (!o) continue
              result.outcomes.push(o)
              if (o.exchange)
                controlText.set(
                  o.case.target.id,
                  withoutEchoes(o.exchange.response.body, sentBy(o.case.request)),
                )
            }
          },
        )
        await settle(
          indices.map((index) =>
            limit(async () => {
              // Past the deadline nothing new starts; what is in flight finishes.
              if (Date.now() > options.deadline) return undefined
              ctx.signal.throwIfAborted()
              result.sent++
              if (result.sent % 50 === 0)
                ctx.progress(`${options.sandbox.name}: ${result.sent}/${indices.length} cases`)
              return run(generator.generate(index))
            }),
          ),
          (generated) => {
            for (const o of generated) if (o) result.outcomes.push(o)
          },
        )
      },
    },
    {
      phase: 'probes',
      go: async (s) => {
        await settle(
          probeList(s).map((probe, index) =>
            limit(async () => {
              if (late()) return undefined
              const outcome = await run(probe.case)
              return { probe, index, outcome, ...(await readForeignWrite(probe, outcome)) }
            }),
          ),
          (sent) => {
            for (const x of sent) if (x?.outcome) result.probes.push(x as SideResult['probes'][number])
          },
        )
      },
    },
    {
      phase: 'behaviour',
      go: async (s) => {
        const { findings, completed } = await runBehaviour({
          session: s,
          params: p,
          oracles: options.oracles,
          seed: options.seed,
          caseTimeoutMs: options.caseTimeoutMs,
          // A probe that could not get its answer before the requests' end is not started.
          send: async (c) =>
            late() || Date.now() + options.caseTimeoutMs > options.requestEnd ? undefined : run(c),
        })
        result.behaviour.push(...findings)
        result.behaviourCompared.push(...completed)
      },
    },
    {
      phase: 'suggested',
      go: async (s) => {
        await settle(
          suggestedList(s).map((suggested, index) =>
            limit(async () =>
              late() ? undefined : { suggested, index, outcome: await run(suggested.case) },
            ),
          ),
          (sent) => {
            for (const x of sent)
              if (x?.outcome)
                result.suggested.push({ suggested: x.suggested, index: x.index, outcome: x.outcome })
          },
        )
      },
    },
  ]
  const present = phases.filter(({ phase }) => phase === 'cases' || result.planned[phase] > 0)
  for (const [i, { phase, go }] of present.entries()) {
    try {
      await go(session)
    } catch (error) {
      if (!cutBy(error)) throw error
    }
    if (cutBy(true)) {
      result.stopped = ranOut(PHASE_WORDS[phase])
      break
    }
    const last = i === present.length - 1
    if (!p.reset) continue
    await options.afterPhase?.(phase, last)
    let outcome: Awaited<ReturnType<typeof reset>> | undefined
    try {
      outcome = await reset(ctx, options.sandbox, p.reset, Math.max(1000, options.requestEnd - Date.now()))
    } catch (error) {
      if (!cutBy(error)) throw error
    }
    if (!outcome || cutBy(true)) {
      result.stopped = ranOut(`the reset after ${PHASE_WORDS[phase]}`)
      break
    }
    if (!outcome.ok) {
      const skipped = present.slice(i + 1).map((x) => PHASE_WORDS[x.phase])
      result.stopped = `the reset after ${PHASE_WORDS[phase]} failed (${outcome.reason})${skipped.length ? `, so ${skipped.join(' and ')} did not run` : ''}`
      ctx.report({
        messageId: 'reset-failed',
        severity: 'warning',
        data: {
          sandbox: options.sandbox.name,
          after: PHASE_WORDS[phase],
          reason: outcome.reason,
          skipped: skipped.length ? `; not run: ${skipped.join(', ')}` : '',
        },
        evidence: outcome.evidence,
      })
      break
    }
    if (last) break
    // The reset removed what setup created: create it again for the next phase.
    try {
      session = await openSession(ctx, options.sandbox, options.targets, options.seed)
    } catch (error) {
      if (!cutBy(error)) throw error
    }
    if (cutBy(true)) {
      result.stopped = ranOut(`setup after the reset that followed ${PHASE_WORDS[phase]}`)
      break
    }
    if (!session) {
      result.stopped = `setup failed again after the reset that followed ${PHASE_WORDS[phase]}`
      break
    }
  }
  const crashes = deaths.crashes()
  if (crashes.length) result.crashed = crashes
  return result
}

function emptySide(): SideResult {
  return {
    outcomes: [],
    probes: [],
    behaviour: [],
    behaviourCompared: [],
    suggested: [],
    sent: 0,
    timedOut: 0,
    planned: { cases: 0, probes: 0, behaviour: 0, suggested: 0 },
  }
}

/**
 * Waits for every task, hands what they got to `keep` (undefined for a task that threw), then throws the
 * first error: a side cut by its hard stop keeps the answers that came before it.
 */
async function settle<T>(
  tasks: Array<Promise<T>>,
  keep: (values: Array<T | undefined>) => void,
): Promise<void> {
  const settled = await Promise.allSettled(tasks)
  keep(settled.map((x) => (x.status === 'fulfilled' ? x.value : undefined)))
  const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected')
  if (failed) throw failed.reason
}
