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

/** A response as received, secrets redacted (its body is the evidence's `excerpt`). */
export interface RecordedResponse {
  status: number
  headers: Record<string, string>
  durationMs: number
}

/** One line of evidence as every reporter shows it: `request: POST http://127.0.0.1:4001/orders (candidate)`. */
export interface EvidenceLine {
  label: string
  value: string
}

/** A longer text shown as a block: a response body, a command's output, a message's payload. */
export interface EvidenceExcerpt {
  /** e.g. `body`, `output`, `payload`. */
  label: string
  text: string
}

/**
 * What a finding observed, over one transport. Reporters render only these common fields, the same way
 * for every transport; the fields of a variant (an HTTP exchange's request and response) are for machines.
 * Kinds write evidence through the helpers of engine/api/evidence.ts.
 */
export interface EvidenceBase<Transport extends string = string> {
  /** The transport it was observed on: `http`, `process`, … (a message, a row set, a fault next). */
  transport: Transport
  /** Which sandbox: `candidate` or `baseline`. */
  sandbox?: string
  /** What it shows, in order, one line each. */
  summary: EvidenceLine[]
  excerpt?: EvidenceExcerpt
  /** A shell command that reproduces it (curl for HTTP), secrets replaced by `[REDACTED]`. */
  reproduce?: string
  /** Free-form extra facts (metrics, a seed, a command's exit code). Values are JSON. */
  details?: Record<string, unknown>
}

/** An HTTP exchange, or a request that got no response, or a measurement of HTTP traffic (load). */
export interface HttpEvidence extends EvidenceBase<'http'> {
  request?: RecordedRequest
  response?: RecordedResponse
}

/** A command a check ran (an e2e `run:` step): its output is the excerpt. */
export type ProcessEvidence = EvidenceBase<'process'>

/**
 * Evidence of a transport that has no variant of its own yet (a plug-in's): the common fields, its facts
 * in `details`. A transport that earns structured fields gets a variant here and in the schema.
 */
export type OtherEvidence = EvidenceBase

export type Evidence = HttpEvidence | ProcessEvidence | OtherEvidence

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
  /** What was observed, with the command that reproduces it. */
  evidence?: Evidence
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

/** The version of the verdict's JSON form (reporters/schema/verdict.json); 2 tags evidence by transport. */
export const VERDICT_SCHEMA_VERSION = 2

export interface Verdict {
  schemaVersion: typeof VERDICT_SCHEMA_VERSION
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
