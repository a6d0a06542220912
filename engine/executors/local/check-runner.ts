/** Runs one check: builds its context, enforces its timeout and cancellation, turns reports into findings. */
import { setMaxListeners } from 'node:events'
import path from 'node:path'
import type { CheckBlock, Plan } from '../../../plans/types.js'
import type {
  AnyCheckKind,
  CheckContext,
  CheckMemory,
  CheckSandboxes,
  MeasureClaim,
  ReportDescriptor,
  Variables,
} from '../../api/kind.js'
import type { CopyWatch } from '../../api/executor.js'
import type { Redactor } from '../../http/redact.js'
import { idOfFinding } from '../../findings/id.js'
import { lastWindowEnd, logsFor, type LogAttributionOptions } from '../../findings/logs.js'
import { mergeRepeats } from '../../findings/repeats.js'
import type { SandboxAddresses } from '../../clients/addresses.js'
import { isolator } from './isolation.js'
import { ABSENT, PRESENT } from '../../api/values.js'
import { VigilError } from '../../errors.js'
import { checkIdentity } from '../../verdict-builder.js'
import { fillPlaceholders } from '../../template.js'
import type { CheckEvent, CheckResult, Finding, SerializedError } from '../../verdict.js'

/** Why checks were stopped: their own timeout, Ctrl-C, the run's deadline, or a dependency that died. */
export type CheckAbortCode =
  'VIGIL_CHECK_TIMEOUT' | 'VIGIL_CANCELLED' | 'VIGIL_DEADLINE' | 'VIGIL_DEPENDENCY_DIED'

/** Why a check's signal was aborted; becomes the errored result's code and message. */
export class CheckAbort extends VigilError {
  declare readonly code: CheckAbortCode
  constructor(code: CheckAbortCode, message: string) {
    super(code, message, { exitCode: 3 })
  }
}

export interface RunCheckOptions {
  plan: Plan
  check: CheckBlock
  kind: AnyCheckKind
  sandboxes: CheckSandboxes
  /** The run's open clients by name; the check gets those its kind's `meta.needs` names. */
  clients: Readonly<Record<string, unknown>>
  /** Redacts findings, errors and progress notes. */
  redactor: Redactor
  vars: Variables
  seed: number
  timeoutMs: number
  /** The run's signal (Ctrl-C, deadline); its reason should be a CheckAbort. */
  signal: AbortSignal
  onProgress?(event: CheckEvent): void
  /** How the services' log lines are attributed to findings. @default LogAttributionOptions' defaults */
  logs?: LogAttributionOptions
  /** The run's sandbox addresses: a check's isolated copies are admitted to them while it runs. */
  addresses?: SandboxAddresses
  /** The run's watcher of its services' resources: it samples the check's copies while they live. */
  copies?: CopyWatch
  /** Schedules `ctx.measure` (the executor's gate). @default runs the measurement at once */
  measure?<T>(claim: MeasureClaim, fn: () => Promise<T>): Promise<T>
  /** Schedules `ctx.warmUp` beside the non-measuring checks (the executor's gate). @default absent */
  warmUp?(claim: MeasureClaim, fn: () => Promise<unknown>): Promise<boolean>
  /** Resolves once the run's comparing checks have ended (`ctx.afterComparisons`). @default absent */
  afterComparisons?(): Promise<void>
  /** The check's memory in a warm session (`ctx.memory`). @default none */
  memory?: CheckMemory
  /**
   * Runs another check of the plan against other sandboxes, under this check's signal (`ctx.runChecks`).
   * @default none: the check gets no `runChecks`
   */
  nested?(
    check: CheckBlock,
    sandboxes: CheckSandboxes,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<CheckResult>
}

/** Fills `{{name}}` placeholders of a message template from `data`. */
export function renderMessage(template: string, data: Record<string, unknown> = {}): string {
  return fillPlaceholders(template, (key, whole) => {
    if (!Object.hasOwn(data, key)) return whole
    const value = data[key]
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  })
}

/** Said after the message of a failure the baseline shares. */
export const PRE_EXISTING_NOTE =
  'Pre-existing: the baseline fails the same way, so this change did not cause it.'

/** A report descriptor as a verdict finding, redacted. */
export function toFinding(
  kind: { meta: { messages: Readonly<Record<string, string>> } },
  d: ReportDescriptor,
  redactor: Redactor,
): Finding {
  const template = d.messageId !== undefined ? kind.meta.messages[d.messageId] : undefined
  const message =
    template !== undefined ? renderMessage(template, d.data) : (d.message ?? d.messageId ?? 'Check failed.')
  const note = d.preExisting ? ` ${PRE_EXISTING_NOTE}` : ''
  const finding: Finding = { message: redactor.text(message) + note, severity: d.severity ?? 'error' }
  if (d.messageId !== undefined) finding.messageId = d.messageId
  if (d.step !== undefined) finding.step = redactor.text(d.step)
  if (d.pointer !== undefined) finding.pointer = d.pointer
  if (d.expected !== undefined) finding.expected = redactor.json(d.expected)
  if (d.actual !== undefined) finding.actual = redactor.json(d.actual)
  // What was expected present and is not there reads as such, not as a missing field of the finding.
  else if (d.expected === PRESENT) finding.actual = ABSENT
  if (d.evidence !== undefined) finding.evidence = redactor.json(d.evidence)
  if (d.preExisting) finding.preExisting = true
  if (d.partial) finding.partial = true
  return finding
}

/** Stack frames of this machine are shown relative to the working directory. */
function relativeStack(stack: string | undefined): string | undefined {
  if (!stack) return undefined
  const cwd = process.cwd() + path.sep
  return stack.split(cwd).join('').split(`file://${cwd}`).join('')
}

export function serializeError(error: unknown, redactor: Redactor): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: redactor.text(error.message) }
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string') out.code = code
    const logTail = (error as { logTail?: unknown }).logTail
    if (Array.isArray(logTail) && logTail.length) out.logTail = logTail.map((l) => redactor.text(String(l)))
    // Known errors explain themselves; a stack only helps for unexpected ones.
    if (!(error instanceof CheckAbort) && !code) {
      const stack = relativeStack(error.stack)
      if (stack) out.stack = redactor.text(stack)
    }
    return out
  }
  return { name: 'Error', message: redactor.text(String(error)) }
}

/**
 * A check's findings as the verdict holds them: each with its stable id, repeats merged, and the failing
 * ones (errors and warnings) with the lines the services wrote while they were observed (the first finding
 * of a request carries them, once). Waits out the grace after the last request unless `signal` is aborted.
 */
export async function finishFindings(
  findings: readonly Finding[],
  options: Pick<RunCheckOptions, 'plan' | 'check' | 'sandboxes' | 'redactor' | 'logs'>,
  signal?: AbortSignal,
): Promise<Finding[]> {
  const withIds = findings.map((f): Finding => ({
    id: idOfFinding(options.plan.name, options.check.name, f),
    ...f,
  }))
  const merged = mergeRepeats(withIds)
  const failing = merged.filter((f) => f.severity !== 'info' && f.evidence?.window)
  if (failing.length === 0) return merged
  const grace = options.logs?.graceMs ?? 100
  const wait = (lastWindowEnd(failing, grace) ?? 0) - Date.now()
  if (wait > 0 && !signal?.aborted) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, grace)))
  // Findings about one request share its lines: the first of them carries them, once.
  const attached = new Set<string>()
  return merged.map((finding) => {
    const evidence = finding.evidence
    if (!evidence || finding.severity === 'info' || !evidence.window) return finding
    const request = JSON.stringify([evidence.sandbox, evidence.window])
    if (attached.has(request)) return finding
    attached.add(request)
    const sandbox =
      evidence.sandbox === 'baseline'
        ? options.sandboxes.baseline
        : evidence.sandbox === 'candidate'
          ? options.sandboxes.candidate
          : undefined
    const logs = sandbox && logsFor(evidence, sandbox, options.logs)
    if (!logs) return finding
    return { ...finding, evidence: { ...evidence, logs: options.redactor.json(logs) } }
  })
}

/** Runs one check to its result; never throws. */
export async function runCheck(options: RunCheckOptions): Promise<CheckResult> {
  const { plan, check, kind, redactor } = options
  const base = checkIdentity(plan, check)
  const started = performance.now()
  const controller = new AbortController()
  // Each request a check has in flight listens to its signal (a race check's customers released together,
  // a load check's connections): no limit, or Node warns of a leak past ten. The signal ends with the check.
  setMaxListeners(0, controller.signal)
  const findings: Finding[] = []
  let settled = false
  // Time spent waiting for a measurement slot is not the check's: the timer pauses meanwhile.
  let waitedMs = 0
  const arm = (ms: number) =>
    setTimeout(
      () =>
        controller.abort(new CheckAbort('VIGIL_CHECK_TIMEOUT', `timed out after ${options.timeoutMs} ms`)),
      ms,
    )
  let timer = arm(options.timeoutMs)
  const onRunAbort = () => controller.abort(options.signal.reason)
  if (options.signal.aborted) onRunAbort()
  else options.signal.addEventListener('abort', onRunAbort, { once: true })

  // The kind gets exactly the clients it declared; one the run did not open makes the check errored.
  const needs: readonly string[] = kind.meta.needs ?? []
  const clients: Record<string, unknown> = {}
  for (const name of needs) if (Object.hasOwn(options.clients, name)) clients[name] = options.clients[name]
  const unmet = needs.filter((name) => !Object.hasOwn(clients, name))
  const isolation = isolator(
    options.addresses,
    controller.signal,
    options.copies && { copies: options.copies, plan: plan.name, check: check.name },
  )
  // One after the other: a nested check that writes must not show in another's comparison.
  const runNested = async (
    nested: NonNullable<RunCheckOptions['nested']>,
    checks: readonly CheckBlock[],
    sandboxes: CheckSandboxes,
  ): Promise<CheckResult[]> => {
    const out: CheckResult[] = []
    for (const inner of checks) {
      const left = options.timeoutMs - (performance.now() - started - waitedMs)
      out.push(await nested(inner, sandboxes, controller.signal, Math.max(1_000, left)))
    }
    return out
  }
  const ctx: CheckContext<Record<string, unknown>, never, Record<string, unknown>> = {
    plan,
    check,
    params: check.params as Record<string, unknown>,
    sandboxes: options.sandboxes,
    clients,
    vars: options.vars,
    seed: options.seed,
    signal: controller.signal,
    timeoutMs: options.timeoutMs,
    report: (descriptor) => {
      // Reports after the check ended (a kind that ignored its signal) are dropped.
      if (!settled) findings.push(toFinding(kind, descriptor, redactor))
    },
    progress: (note) => {
      if (!settled)
        options.onProgress?.({
          plan: plan.name,
          check: check.name,
          kind: check.kind,
          note: redactor.text(note),
        })
    },
    isolate: (sandbox, services, options) => isolation.isolate(sandbox, services, options),
    ...(options.memory ? { memory: options.memory } : {}),
    ...(options.afterComparisons ? { afterComparisons: options.afterComparisons } : {}),
    ...(options.warmUp ? { warmUp: options.warmUp } : {}),
    ...(options.nested
      ? { runChecks: (checks, sandboxes) => runNested(options.nested!, checks, sandboxes) }
      : {}),
    measure: async (claim, fn) => {
      if (!options.measure) return fn()
      clearTimeout(timer)
      const remaining = options.timeoutMs - (performance.now() - started - waitedMs)
      const waitStart = performance.now()
      return options.measure(claim, async () => {
        waitedMs += performance.now() - waitStart
        timer = arm(Math.max(0, remaining))
        // The check ended while it waited (cancelled): measure nothing.
        if (controller.signal.aborted || settled) throw controller.signal.reason ?? new Error('check ended')
        return fn()
      })
    },
  }
  let abortListener: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    abortListener = () => reject(controller.signal.reason)
    if (controller.signal.aborted) abortListener()
    else controller.signal.addEventListener('abort', abortListener, { once: true })
  })
  aborted.catch(() => undefined)
  try {
    // A kind that ignores its signal cannot hold the run: the race ends the check on abort.
    if (unmet.length) {
      throw new Error(
        `the ${check.kind} kind needs the client${unmet.length === 1 ? '' : 's'} ${unmet.join(', ')}, which this run has not opened (engine/clients/index.ts has none by that name)`,
      )
    }
    await Promise.race([kind.run(ctx), aborted])
    settled = true
    const finished = await finishFindings(findings, options, controller.signal)
    const durationMs = Math.round(performance.now() - started - waitedMs)
    const failed = finished.some((f) => f.severity === 'error')
    return { ...base, state: failed ? 'failed' : 'passed', durationMs, findings: finished }
  } catch (error) {
    // A kind that finds it does not apply to this run (e.g. no baseline to compare) says so by
    // throwing CheckSkipped (engine/errors.ts); matched by code so no import cycle is needed.
    if (!controller.signal.aborted && (error as { code?: unknown })?.code === 'VIGIL_CHECK_SKIPPED') {
      return { ...base, state: 'skipped', note: redactor.text((error as Error).message) }
    }
    const reason = controller.signal.aborted ? controller.signal.reason : error
    settled = true
    const finished = await finishFindings(findings, options, controller.signal)
    return {
      ...base,
      state: 'errored',
      durationMs: Math.round(performance.now() - started - waitedMs),
      error: serializeError(reason, redactor),
      findings: finished,
    }
  } finally {
    settled = true
    clearTimeout(timer)
    await isolation.release()
    options.signal.removeEventListener('abort', onRunAbort)
    if (abortListener) controller.signal.removeEventListener('abort', abortListener)
  }
}
