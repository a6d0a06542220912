/** Turns check results into plan results, counts and the verdict with its status and exit code. */
import type { Redactor } from '../plans/redact.js'
import type { CheckBlock } from '../plans/types.js'
import type {
  CheckResult,
  Counts,
  PlanResult,
  PlanState,
  RunError,
  RunIdentity,
  TimingEntry,
  Verdict,
  VerdictResources,
  VerdictSelection,
  VerdictSession,
} from './verdict.js'
import { VERDICT_SCHEMA_VERSION } from './verdict.js'

/** Run-error codes that mean "the plans or the command line are wrong" (exit 2); others are infrastructure (exit 3). */
/** A check's identity in its result: plan, name, kind, location, and its own `blocking: false`. */
export function checkIdentity(
  plan: { name: string },
  check: Pick<CheckBlock, 'name' | 'kind' | 'location' | 'blocking'>,
) {
  return {
    plan: plan.name,
    check: check.name,
    kind: check.kind,
    location: { ...check.location },
    ...(check.blocking === false ? { blocking: false as const } : {}),
  }
}

export const USAGE_ERROR_CODES: ReadonlySet<string> = new Set([
  'VIGIL_PLAN',
  'VIGIL_CONFIG',
  'VIGIL_USAGE',
  'VIGIL_VARIABLE',
  'VIGIL_PLAN_NOT_FOUND',
  'VIGIL_DIFF',
])

/** True when a failed or errored check only warns: its plan or the check itself is not blocking. */
export function onlyWarns(planBlocking: boolean, check: CheckResult): boolean {
  return (
    (check.state === 'failed' || check.state === 'errored') && (!planBlocking || check.blocking === false)
  )
}

/** A plan's state from its checks: non-blocking plans and checks turn failures and errors into warnings. */
export function planState(blocking: boolean, checks: readonly CheckResult[]): PlanState {
  const ran = checks.filter((c) => c.state !== 'skipped')
  if (ran.length === 0) return 'skipped'
  if (!ran.some((c) => c.state === 'errored' || c.state === 'failed')) return 'passed'
  const counted = blocking ? ran.filter((c) => c.blocking !== false) : []
  if (counted.some((c) => c.state === 'errored')) return 'errored'
  if (counted.some((c) => c.state === 'failed')) return 'failed'
  return 'warned'
}

function emptyCounts(): Counts {
  return { total: 0, passed: 0, failed: 0, errored: 0, skipped: 0, warned: 0 }
}

/**
 * Counts plans by state, and checks by state; a failed or errored check of a non-blocking plan, or one
 * that is not blocking itself, is counted as `warned` (not `failed`), so the counts partition `total`.
 */
export function summarize(plans: readonly PlanResult[]): { plans: Counts; checks: Counts } {
  const planCounts = emptyCounts()
  const checkCounts = emptyCounts()
  for (const plan of plans) {
    planCounts.total++
    planCounts[plan.state]++
    for (const check of plan.checks) {
      checkCounts.total++
      if (onlyWarns(plan.blocking, check)) checkCounts.warned++
      else checkCounts[check.state]++
    }
  }
  return { plans: planCounts, checks: checkCounts }
}

export interface BuildVerdictInput {
  startedAt: Date
  durationMs: number
  identity: RunIdentity
  selection?: VerdictSelection
  plans: PlanResult[]
  errors?: RunError[]
  timings?: TimingEntry[]
  cancelled?: boolean
  /** The warm session's account of this iteration (see VerdictSession). */
  session?: VerdictSession
  /** The services' resources while the checks ran. */
  resources?: VerdictResources
  /**
   * The run's redactor. The whole verdict goes through it before anyone sees it — reporters, files, the
   * MCP reply — so an output added later cannot forget a secret that a check, an error or a selection let through.
   */
  redactor?: Redactor
}

/**
 * Status and exit code, most serious first: an infrastructure run error (3), a plan or usage error
 * (2), a cancelled run or an errored blocking check (3), a failed blocking check (1), else pass (0).
 */
export function verdictStatus(
  input: Pick<BuildVerdictInput, 'plans' | 'errors' | 'cancelled'>,
): Pick<Verdict, 'status' | 'exitCode'> {
  const errors = input.errors ?? []
  if (errors.some((e) => !USAGE_ERROR_CODES.has(e.code))) return { status: 'error', exitCode: 3 }
  if (errors.length) return { status: 'error', exitCode: 2 }
  if (input.cancelled) return { status: 'error', exitCode: 3 }
  if (input.plans.some((p) => p.state === 'errored')) return { status: 'error', exitCode: 3 }
  if (input.plans.some((p) => p.state === 'failed')) return { status: 'fail', exitCode: 1 }
  return { status: 'pass', exitCode: 0 }
}

export function buildVerdict(input: BuildVerdictInput): Verdict {
  const verdict: Verdict = {
    schemaVersion: VERDICT_SCHEMA_VERSION,
    ...verdictStatus(input),
    startedAt: input.startedAt.toISOString(),
    durationMs: Math.round(input.durationMs),
    identity: input.identity,
    plans: input.plans,
    errors: input.errors ?? [],
    summary: summarize(input.plans),
    timings: (input.timings ?? []).map((t) => ({ phase: t.phase, durationMs: Math.round(t.durationMs) })),
  }
  if (input.selection) verdict.selection = input.selection
  if (input.cancelled) verdict.cancelled = true
  if (input.session) verdict.session = input.session
  if (input.resources) verdict.resources = input.resources
  return input.redactor ? input.redactor.json(verdict) : verdict
}
