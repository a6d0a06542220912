/** Pieces of a run that are not orchestration: its identity, the plan selection, run errors. */
import { randomUUID } from 'node:crypto'
import { closest } from 'fastest-levenshtein'
import { gitOutput } from '../../plans/git.js'
import type { Plan, PlanDiagnostic } from '../../plans/types.js'
import type { Redactor } from '../http/redact.js'
import type {
  CheckEvent,
  CheckResult,
  RunError,
  RunIdentity,
  RunStartInfo,
  Verdict,
  VerdictSelection,
} from '../verdict.js'

/** `git rev-parse HEAD` of the repository holding `dir`, or undefined outside one. */
export function gitCommit(dir: string): Promise<string | undefined> {
  return gitOutput(['rev-parse', 'HEAD'], { cwd: dir, timeoutMs: 5000 })
}

export interface IdentityInput {
  configDir: string
  /** @default a random UUID */
  runId?: string
  base?: string
  patch?: string
  requester?: string
  seed: number
  env: Readonly<Record<string, string | undefined>>
  /** HEAD of the config's repository when the caller read it already (null: none). @default read with git */
  commit?: string | null
}

export async function runIdentity(input: IdentityInput): Promise<RunIdentity> {
  const identity: RunIdentity = { runId: input.runId ?? randomUUID(), seed: input.seed }
  const commit = input.commit !== undefined ? input.commit : await gitCommit(input.configDir)
  if (commit) identity.commit = commit
  if (input.base) identity.base = input.base
  if (input.patch) identity.patch = input.patch
  const requester = input.requester ?? input.env.VIGIL_REQUESTER
  if (requester) identity.requester = requester
  return identity
}

export function diagnosticError(d: PlanDiagnostic): RunError {
  return {
    code: 'VIGIL_PLAN',
    // The location is its own field (reporters print it first); the message names the plan.
    message: d.plan === undefined ? d.message : `plan ${d.plan}: ${d.message}`,
    location: { file: d.file, line: d.line, column: d.column },
  }
}

/** A thrown error as a run error, redacted, with its log tail when it has one. */
export function toRunError(error: unknown, redactor: Redactor): RunError {
  const e = error as { code?: unknown; message?: unknown; logTail?: unknown }
  const out: RunError = {
    code: typeof e?.code === 'string' ? e.code : 'VIGIL_INTERNAL',
    message: redactor.text(typeof e?.message === 'string' ? e.message : String(error)),
  }
  if (Array.isArray(e?.logTail) && e.logTail.length)
    out.logTail = e.logTail.map((l) => redactor.text(String(l)))
  return out
}

/** The hooks of a run's reporter (engine/run/run.ts `RunReporter`), structurally. */
interface RunHooks {
  onRunStart?(info: RunStartInfo): unknown
  onCheckStart?(event: CheckEvent): unknown
  onCheckProgress?(event: CheckEvent): unknown
  onCheckEnd?(result: CheckResult): unknown
  onRunEnd?(verdict: Verdict): unknown
}

/**
 * A reporter that hears every event redacted, with the secrets `redactor()` knows when the event is sent
 * (secrets resolved later are learned by the same redactor). The verdict of `onRunEnd` is passed as is:
 * `buildVerdict` has redacted it whole already.
 */
export function redactingReporter(reporter: RunHooks, redactor: () => Redactor): Required<RunHooks> {
  return {
    onRunStart: (info) => reporter.onRunStart?.(redactor().json(info)),
    onCheckStart: (event) => reporter.onCheckStart?.(redactor().json(event)),
    onCheckProgress: (event) => reporter.onCheckProgress?.(redactor().json(event)),
    onCheckEnd: (result) => reporter.onCheckEnd?.(redactor().json(result)),
    onRunEnd: (verdict) => reporter.onRunEnd?.(verdict),
  }
}

export interface PlanChoice {
  plans: Plan[]
  selection: VerdictSelection
  errors: RunError[]
}

/**
 * Which loaded plans run: those of the selection record when given, else those named with `--plan`,
 * else all. Names that match no loaded plan are run errors (with a suggestion), not silently dropped.
 */
/** What a reporter learns of a plan when the run starts. */
export function planInfo(p: Plan): RunStartInfo['plans'][number] {
  return {
    name: p.name,
    title: p.title,
    file: p.file,
    blocking: p.blocking,
    checks: p.checks.map((c) => ({ name: c.name, kind: c.kind })),
  }
}

export function choosePlans(
  loaded: readonly Plan[],
  names?: readonly string[],
  selection?: VerdictSelection,
): PlanChoice {
  const byName = new Map(loaded.map((p) => [p.name, p]))
  const errors: RunError[] = []
  let chosen: VerdictSelection
  if (selection) chosen = selection
  else if (names?.length) {
    chosen = {
      selector: 'manual',
      plans: [...new Set(names)].map((name) => ({
        name,
        source: 'manual' as const,
        reason: 'named with --plan',
      })),
    }
  } else {
    chosen = {
      selector: 'all',
      plans: loaded.map((p) => ({
        name: p.name,
        source: 'manual' as const,
        reason: 'every plan of the config',
      })),
    }
  }
  const plans: Plan[] = []
  for (const ref of chosen.plans) {
    const plan = byName.get(ref.name)
    if (plan) {
      plans.push(plan)
      continue
    }
    const hint = byName.size ? closest(ref.name, [...byName.keys()]) : undefined
    errors.push({
      code: 'VIGIL_PLAN_NOT_FOUND',
      message:
        `plan "${ref.name}" was selected but no loaded plan has that name` +
        (hint ? `; did you mean "${hint}"?` : ''),
    })
  }
  // Plan order, not selection order, so the verdict reads the same however plans were picked.
  plans.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { plans, selection: chosen, errors }
}
