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
  /** When it was observed (and the request id it carried), to find the services' log lines of that moment. */
  window?: EvidenceWindow
  /** The lines the sandbox's services wrote while it was observed (set by the engine, not by kinds). */
  logs?: EvidenceLogs
}

/** When an observation started and ended (ISO 8601), and the request id that correlates it, if any. */
export interface EvidenceWindow {
  start: string
  end: string
  /** The value of the configured request id header the request carried (or its response echoed). */
  requestId?: string
}

/**
 * A sandbox's service log lines attributed to one finding. Services are shared by the checks running at
 * once, so lines are attributed by time (`time-window`: written between the request's start and its end
 * plus a grace) unless a request id header correlates them (`request-id`: lines that carry the id).
 */
export interface EvidenceLogs {
  attribution: 'time-window' | 'request-id'
  /** The lines by service, oldest first, each `ISO-time stream text`, redacted and bounded. */
  services: Record<string, string[]>
  /** Lines left out to stay within the bounds. */
  omitted?: number
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

/** Another occurrence of an aggregated finding, kept as an example: what differs is shown, not the evidence. */
export interface FindingExample {
  id: string
  message: string
  step?: string
  pointer?: string
  actual?: unknown
  /** The example's evidence lines and reproduce line (its excerpt and logs are left out). */
  summary?: EvidenceLine[]
  reproduce?: string
}

/** How often a finding occurred in its check, with a few of the other occurrences. */
export interface FindingRepeats {
  /** Occurrences in all, this finding included (at least 2). */
  count: number
  /** Up to three other occurrences (the first ones, in report order). */
  examples: FindingExample[]
}

export interface Finding {
  /**
   * Stable id: a hash of plan, check, step, messageId, pointer and the request's method and path template,
   * never of values that change between runs (ports, generated ids). Same plans, selection and seed: same ids.
   */
  id?: string
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
  /** Set when identical findings (same id, or the same message at the same place on many requests) were merged into this one. */
  repeats?: FindingRepeats
  /** The baseline fails the same way: reported as a warning, not as this change's failure. */
  preExisting?: true
  /** Found by a check whose comparison was cut short (its time ran out): it holds, but may be incomplete. */
  partial?: true
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
  /** Present (false) when the check itself is not blocking: its failures and errors are warnings. */
  blocking?: false
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

/**
 * Why a plan was selected: by the selector's layers (`paths`, `always`, `impact`, `rules`, `llm`), by name
 * (`manual`), or by a warm session because it failed in an earlier iteration and has not passed since
 * (`session`), though the change no longer selects it.
 */
export type SelectionSource = 'paths' | 'always' | 'impact' | 'rules' | 'llm' | 'manual' | 'session'

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

/** Where one side's services ran from. */
export interface SideSource {
  /** `working-tree`: the folder as it is; `ref`: a git worktree of a commit; `patch`: a copy with a patch applied. */
  kind: 'working-tree' | 'ref' | 'patch'
  /** The commit: HEAD of the working tree (also under a patch), or the one `ref` resolved to. */
  commit?: string
  /** The working tree had uncommitted changes (they are part of what ran). */
  dirty?: boolean
  /** The git ref as given (`--base`). */
  ref?: string
  /** The patch file, relative to the run's folder. */
  patch?: string
  /** sha256 of the patch's bytes. */
  patchSha256?: string
  /** Keys of the config's `baseline:` section that changed this side (`services.orders.command`). */
  overrides?: string[]
}

/** One service of a side as it ran: its command, folder and the versions it reports. */
export interface ServiceBuild {
  /** The command, as run (secrets redacted). */
  command?: string
  /** Its working folder, relative to the side's root. */
  cwd?: string
  /** `prepare:` command run before it started. */
  prepare?: string
  /** What the service's `version:` probe answered. */
  version?: string
  /** Why the version probe gave nothing. */
  versionError?: string
  /** `name@version` of the package.json in its folder. */
  package?: string
  /** Where it was reached (its image on Kubernetes, its URL for `url`). */
  image?: string
  url?: string
}

/** Which build one side was. */
export interface SideIdentity {
  source: SideSource
  /** The sandbox provider: process, url, kubernetes. */
  provider?: string
  services: Record<string, ServiceBuild>
}

export interface RunIdentity {
  runId: string
  commit?: string
  base?: string
  patch?: string
  requester?: string
  seed: number
  /** The config file, relative to the run's folder (what `vigil reproduce` starts again). */
  config?: string
  /** Which builds were compared: each side's source, service commands and versions. */
  sides?: { candidate: SideIdentity; baseline?: SideIdentity }
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

/**
 * The version of the verdict's JSON form (reporters/schema/verdict.json); 2 tagged evidence by transport,
 * 3 adds finding ids, repeats, log lines, and which builds were compared.
 */
export const VERDICT_SCHEMA_VERSION = 3

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
  /** Set when the run was an iteration of a warm session (`vigil dev`, the MCP server's session). */
  session?: VerdictSession
  /** Each sandbox service's resources while the checks ran; absent where vigil cannot read them (no /proc). */
  resources?: VerdictResources
}

/** One sample of a service's process group. */
export interface ResourcePoint {
  /** Milliseconds since sampling began (when the checks started). */
  atMs: number
  /** Resident set size, bytes. */
  rss: number
  /** CPU time since the processes started, milliseconds. */
  cpuMs: number
  /** Open file descriptors (sockets included). */
  fds: number
  threads: number
}

/**
 * A sandbox service's resources while the checks ran, on one side: the service itself, or a copy of it that
 * one check started for itself (`copy`).
 */
export interface ServiceResources {
  /** `candidate` or `baseline`. */
  side: string
  service: string
  /**
   * Set when this is a copy of the service one check started for itself (a fault check's caller behind its
   * proxy, a resources check's fresh copy, the migration gate's copies on the migrated database): sampled
   * from its start to its stop, on the same clock as the services.
   */
  copy?: ServiceCopy
  peak: { rss: number; fds: number; threads: number }
  /** CPU time it used while the checks ran (a copy: while it lived), milliseconds. */
  cpuMs: number
  /** The series, for a reader to plot: thinned to a few hundred points, each keeping its stretch's peaks. */
  samples: ResourcePoint[]
}

/** The check that started a copy of a service, named as in `plans[].checks[]`. */
export interface ServiceCopy {
  plan: string
  check: string
  /** 2, 3, …: a later copy of the same service the same check started on the same side. Absent for the first. */
  nth?: number
}

/**
 * Every sandbox service sampled from /proc a few times a second during the checks, per side, and every copy
 * of a service a check started, while it lived (after the services, in the order they started).
 */
export interface VerdictResources {
  intervalMs: number
  services: ServiceResources[]
}

/**
 * One iteration of a warm session: what it reused of earlier iterations, what it rebuilt or restarted and
 * why, and which checks it deferred. A verdict with deferred checks is partial: it is not a full one.
 */
export interface VerdictSession {
  /** 1 for the session's first iteration. */
  iteration: number
  /** False when checks were deferred: this verdict does not stand for the whole selection. */
  complete: boolean
  /** The kinds deferred (`load`, `resources`, `race`, `fault`, `migration`) and how many checks each had. */
  deferred: Array<{ kind: string; checks: number }>
  /** The pieces kept from earlier iterations this one relied on: `baseline`, `catalog`, `noise`, `pools`, `candidate:NAME`. */
  reused: string[]
  /** Pieces started again, each with why: `{ part: 'baseline', reason: 'service orders died' }`. */
  rebuilt: Array<{ part: string; reason: string }>
  /** Candidate services restarted because their files changed. */
  restarted: string[]
  /**
   * Of `restarted`, those restarted as soon as a save to their files settled, before this iteration began
   * (`restartOnSave`): their restart is not in this iteration's time. Absent when there were none.
   */
  restartedOnSave?: string[]
  /**
   * Dependencies emptied before this iteration's checks, as `side:name` (`candidate:db`): what earlier
   * iterations wrote is gone. Absent in verdicts made before resets existed.
   */
  reset?: string[]
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
