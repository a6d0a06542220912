/**
 * The executor: runs every check of the plans in parallel (p-limit), each with its timeout, under one
 * run deadline and the caller's cancel signal, and returns results in plan and check order whatever
 * order they finish in.
 */
import { createHash } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import pLimit from 'p-limit'
import type { CheckBlock, Plan } from '../../../plans/types.js'
import { CheckAbort, runCheck } from './check-runner.js'
import { defineExecutor, type ExecuteOptions, type ExecuteResult } from '../../api/executor.js'
import { planState } from '../../verdict-builder.js'
import type { CheckResult, PlanResult } from '../../verdict.js'

export type { ExecuteOptions, ExecuteResult, ExecutorReporter } from '../../api/executor.js'

/** The default run seed, so two runs without `--seed` generate the same inputs. */
export const DEFAULT_SEED = 1

/** A check's seed: stable for a run seed, a plan and a check, independent of scheduling. */
export function checkSeed(runSeed: number, plan: string, checkId: string): number {
  const digest = createHash('sha256').update(`${runSeed}\0${plan}\0${checkId}`).digest()
  return digest.readUInt32BE(0)
}

async function safely(hook: (() => unknown) | undefined): Promise<void> {
  try {
    await hook?.()
  } catch {
    // A reporter's failure is its multiplexer's business; it must never stop the checks.
  }
}

export async function executePlans(options: ExecuteOptions): Promise<ExecuteResult> {
  const runSeed = options.seed ?? DEFAULT_SEED
  const limit = pLimit(Math.max(1, options.concurrency ?? 8))
  const controller = new AbortController()
  // Every in-flight check listens to the run's signal: as many listeners as the concurrency.
  setMaxListeners(0, controller.signal)
  const onCancel = () =>
    controller.abort(
      options.signal?.reason instanceof CheckAbort
        ? options.signal.reason
        : new CheckAbort('VIGIL_CANCELLED', 'cancelled'),
    )
  if (options.signal?.aborted) onCancel()
  else options.signal?.addEventListener('abort', onCancel, { once: true })
  const deadline =
    options.deadlineMs === undefined
      ? undefined
      : setTimeout(
          () =>
            controller.abort(
              new CheckAbort('VIGIL_DEADLINE', `run deadline of ${options.deadlineMs} ms exceeded`),
            ),
          options.deadlineMs,
        )
  const reporter = options.reporter ?? {}
  const spans = new Map<string, { start: number; end: number }>()

  const runOne = async (plan: Plan, check: CheckBlock): Promise<CheckResult> => {
    const base = {
      plan: plan.name,
      check: check.name,
      kind: check.kind,
      location: { ...check.location },
      ...(check.blocking === false ? { blocking: false as const } : {}),
    }
    const kind = options.kinds[check.kind]
    let result: CheckResult
    if (controller.signal.aborted) {
      const reason = controller.signal.reason as CheckAbort
      result = { ...base, state: 'skipped', note: `not started: ${reason.message}` }
    } else if (!kind) {
      result = {
        ...base,
        state: 'errored',
        durationMs: 0,
        error: { name: 'Error', code: 'VIGIL_UNKNOWN_KIND', message: `unknown check kind "${check.kind}"` },
        findings: [],
      }
    } else if (kind.meta.requiresBaseline && !options.sandboxes.baseline) {
      result = {
        ...base,
        state: 'skipped',
        note: `the ${check.kind} check needs a baseline, and this run has none`,
      }
    } else {
      const event = { plan: plan.name, check: check.name, kind: check.kind }
      await safely(() => reporter.onCheckStart?.(event))
      const seed = checkSeed(runSeed, plan.name, check.id)
      const start = performance.now()
      result = await runCheck({
        plan,
        check,
        kind,
        sandboxes: options.sandboxes,
        clients: options.clients,
        redactor: options.redactor,
        vars: options.createVariables(plan, check, seed),
        seed,
        timeoutMs: plan.timeoutMs ?? options.checkTimeoutMs ?? 60_000,
        signal: controller.signal,
        onProgress: (e) => void safely(() => reporter.onCheckProgress?.(e)),
        ...(options.logs ? { logs: options.logs } : {}),
        ...(options.addresses ? { addresses: options.addresses } : {}),
      })
      const span = spans.get(plan.name)
      const end = performance.now()
      spans.set(
        plan.name,
        span ? { start: Math.min(span.start, start), end: Math.max(span.end, end) } : { start, end },
      )
    }
    await safely(() => reporter.onCheckEnd?.(result))
    return result
  }

  try {
    // Shared checks are scheduled in plan order and run in parallel; exclusive ones (measurements such
    // as load) then run one at a time on a quiet machine. Results are collected by position, so
    // neither the finishing order nor the phase ever shows in the output.
    const isExclusive = (check: CheckBlock) => options.kinds[check.kind]?.meta.exclusive === true
    const results: CheckResult[][] = options.plans.map((plan) => new Array<CheckResult>(plan.checks.length))
    await Promise.all(
      options.plans.flatMap((plan, p) =>
        plan.checks.map((check, c) =>
          isExclusive(check)
            ? undefined
            : limit(async () => void (results[p]![c] = await runOne(plan, check))),
        ),
      ),
    )
    for (const [p, plan] of options.plans.entries()) {
      for (const [c, check] of plan.checks.entries()) {
        if (isExclusive(check)) results[p]![c] = await runOne(plan, check)
      }
    }
    const plans = options.plans.map((plan, i): PlanResult => {
      const checks = results[i]!
      const span = spans.get(plan.name)
      return {
        name: plan.name,
        title: plan.title,
        file: plan.file,
        blocking: plan.blocking,
        state: planState(plan.blocking, checks),
        durationMs: span ? Math.round(span.end - span.start) : 0,
        checks,
      }
    })
    return {
      plans,
      cancelled: controller.signal.aborted,
      timings: plans.map((p) => ({ phase: `plan:${p.name}`, durationMs: p.durationMs })),
    }
  } finally {
    if (deadline) clearTimeout(deadline)
    options.signal?.removeEventListener('abort', onCancel)
  }
}

/** `local`: the checks run in this process, in parallel. */
export default defineExecutor({ execute: executePlans })
