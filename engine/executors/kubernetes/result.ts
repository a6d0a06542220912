/**
 * Reading a Job's outcome: the verdict its vigil wrote (termination message when small, else the pod log
 * between markers), validated like any untrusted input, and turned into the plan's results for the run.
 */
import type { Plan } from '../../../plans/types.js'
import { checkIdentity, planState } from '../../verdict-builder.js'
import { VERDICT_SCHEMA_VERSION, type CheckResult, type PlanResult, type Verdict } from '../../verdict.js'
import type { KubeObject } from '../../kubernetes/client.js'

export { terminatedState } from '../../kubernetes/client.js'
import { VERDICT_BEGIN, VERDICT_END } from './manifest.js'

/** `Complete`/`Failed` once the Job finished, else undefined. */
export function jobOutcome(job: KubeObject): 'Complete' | 'Failed' | undefined {
  for (const c of (job.status?.conditions ?? []) as Array<{ type: string; status: string }>) {
    if (c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed')) return c.type
  }
  return undefined
}

/** The verdict in a pod log (between the markers), or in a termination message; undefined when there is none. */
export function extractVerdict(text: string | undefined): Verdict | undefined {
  if (!text) return undefined
  const begin = text.lastIndexOf(VERDICT_BEGIN)
  const body = begin >= 0 ? text.slice(begin + VERDICT_BEGIN.length, text.indexOf(VERDICT_END, begin)) : text
  try {
    const value = JSON.parse(body.trim()) as unknown
    return isVerdict(value) ? value : undefined
  } catch {
    return undefined
  }
}

const CHECK_STATES = new Set(['passed', 'failed', 'skipped', 'errored'])

/** The shape the merge relies on; anything else is treated as no result. */
function isVerdict(value: unknown): value is Verdict {
  const v = value as Partial<Verdict> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    // The Job runs the same vigil image version: its verdict has this version's shape.
    v.schemaVersion === VERDICT_SCHEMA_VERSION &&
    Array.isArray(v.plans) &&
    Array.isArray(v.errors) &&
    v.plans.every(
      (p) =>
        typeof p?.name === 'string' &&
        Array.isArray(p.checks) &&
        p.checks.every((c) => typeof c?.check === 'string' && CHECK_STATES.has(c.state as string)),
    )
  )
}

/**
 * The plan's results from the Job's verdict: the outer plan's identity (file, title, blocking) with the
 * inner checks' outcomes; checks the verdict lacks are errored with the inner run's errors.
 */
export function planFromVerdict(plan: Plan, verdict: Verdict, durationMs: number): PlanResult {
  const inner = verdict.plans.find((p) => p.name === plan.name)
  const why = verdict.errors.map((e) => e.message).join('; ') || 'the Job ran no such check'
  const checks = plan.checks.map((check): CheckResult => {
    const base = checkIdentity(plan, check)
    const found = inner?.checks.find((c) => c.check === check.name)
    if (!found) {
      return {
        ...base,
        state: 'errored',
        durationMs: 0,
        findings: [],
        error: { name: 'ClusterJobError', code: 'VIGIL_K8S_JOB', message: `in-cluster run: ${why}` },
      }
    }
    return { ...found, ...base } as CheckResult
  })
  return result(plan, checks, durationMs)
}

/** Every check of the plan errored with the same cause (the Job could not run or left no verdict). */
export function planErrored(plan: Plan, message: string, logTail: string[], durationMs: number): PlanResult {
  const checks = plan.checks.map((check): CheckResult => ({
    ...checkIdentity(plan, check),
    state: 'errored',
    durationMs,
    findings: [],
    error: {
      name: 'ClusterJobError',
      code: 'VIGIL_K8S_JOB',
      message,
      ...(logTail.length ? { logTail } : {}),
    },
  }))
  return result(plan, checks, durationMs)
}

function result(plan: Plan, checks: CheckResult[], durationMs: number): PlanResult {
  return {
    name: plan.name,
    title: plan.title,
    file: plan.file,
    blocking: plan.blocking,
    state: planState(plan.blocking, checks),
    durationMs: Math.round(durationMs),
    checks,
  }
}
