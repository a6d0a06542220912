/**
 * The verdict: the one result of a run. Reporters import only this file.
 * Its JSON form is published as `reporters/schema/verdict.json` (versioned by `schemaVersion`).
 */

export interface SourceLocation {
  file: string
  line?: number
  column?: number
}

export type Severity = 'error' | 'warning' | 'info'

/** A request as sent, with secrets already redacted. */
export interface RecordedRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: string
}

/** A response as received, body cut to an excerpt, secrets redacted. */
export interface RecordedResponse {
  status: number
  headers: Record<string, string>
  bodyExcerpt?: string
  durationMs: number
}

export interface Evidence {
  request?: RecordedRequest
  response?: RecordedResponse
  /** Which sandbox answered: `candidate` or `baseline`. */
  sandbox?: string
  /** Free-form extra facts (a log tail, metrics, a seed). Values are JSON. */
  details?: Record<string, unknown>
}

export interface Finding {
  /** The kind's message id, e.g. `status`, `field-removed`, `no-server-error`. */
  messageId?: string
  /** One plain sentence. */
  message: string
  /** error fails the check; warning and info do not. */
  severity: Severity
  /** JSON pointer or other locator inside the response the finding concerns. */
  pointer?: string
  expected?: unknown
  actual?: unknown
  evidence?: Evidence
  /** A shell command that reproduces the finding (usually curl). */
  reproduce?: string
  /** A step or sub-part of the check, e.g. an e2e step name. */
  step?: string
}

export interface SerializedError {
  name: string
  message: string
  code?: string
  stack?: string
  /** Tail of a log that explains the error, e.g. a sandbox service's last lines. */
  logTail?: string[]
}

interface CheckResultBase {
  plan: string
  /** Check name (unique within its plan). */
  check: string
  kind: string
  location: SourceLocation
}

export type CheckResult = CheckResultBase &
  (
    | { state: 'passed'; durationMs: number; findings: Finding[] }
    | { state: 'failed'; durationMs: number; findings: Finding[] }
    | { state: 'skipped'; note: string }
    | { state: 'errored'; durationMs: number; error: SerializedError; findings: Finding[] }
  )

export type CheckState = CheckResult['state']

export type PlanState = 'passed' | 'failed' | 'warned' | 'errored' | 'skipped'

export interface PlanResult {
  name: string
  title: string
  file: string
  blocking: boolean
  state: PlanState
  durationMs: number
  checks: CheckResult[]
}

export type SelectionSource = 'paths' | 'always' | 'rules' | 'llm' | 'manual'

export interface SelectedPlanRef {
  name: string
  source: SelectionSource
  reason: string
}

/** The part of a selection record the verdict keeps. */
export interface VerdictSelection {
  selector: string
  model?: string
  degraded?: boolean
  degradedReason?: string
  diffHash?: string
  plans: SelectedPlanRef[]
}

export interface RunIdentity {
  runId: string
  commit?: string
  base?: string
  patch?: string
  requester?: string
  seed: number
}

/** An error of the run itself (sandbox, plan loading), not of one check. */
export interface RunError {
  code: string
  message: string
  location?: SourceLocation
  logTail?: string[]
}

export type VerdictStatus = 'pass' | 'fail' | 'error'

export interface Counts {
  total: number
  passed: number
  failed: number
  errored: number
  skipped: number
  warned: number
}

export interface TimingEntry {
  /** e.g. `sandbox:candidate`, `selection`, `plan:checkout-flow`. */
  phase: string
  durationMs: number
}

export interface Verdict {
  schemaVersion: 1
  status: VerdictStatus
  /** 0 pass, 1 fail, 2 usage or plan error, 3 infrastructure error. */
  exitCode: 0 | 1 | 2 | 3
  startedAt: string
  durationMs: number
  identity: RunIdentity
  selection?: VerdictSelection
  plans: PlanResult[]
  errors: RunError[]
  summary: { plans: Counts; checks: Counts }
  timings: TimingEntry[]
  /** True when the run was cancelled (Ctrl-C or the run deadline) and results are partial. */
  cancelled?: boolean
}

/** What live reporters learn when a run starts. */
export interface RunStartInfo {
  runId: string
  startedAt: string
  selection?: VerdictSelection
  plans: Array<{
    name: string
    title: string
    file: string
    /** false: this plan's failures are warnings. */
    blocking: boolean
    checks: Array<{ name: string; kind: string }>
  }>
  /** Sandboxes in use, with their service URLs. */
  sandboxes: Array<{ name: string; services: Record<string, string> }>
}

/** A check about to run, or a progress note of a running check. */
export interface CheckEvent {
  plan: string
  check: string
  kind: string
  note?: string
}
