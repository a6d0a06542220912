/**
 * The executor: runs every check of the plans in parallel (p-limit), each with its timeout, under one
 * run deadline and the caller's cancel signal, and returns results in plan and check order whatever
 * order they finish in. Measurements (kinds with `exclusive`) go through the measure gate: they wait
 * for the other checks to finish, then run alone or beside measurements that share nothing with them.
 */
import { createHash } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import pLimit from 'p-limit'
import type { CheckBlock, Plan } from '../../../plans/types.js'
import { CheckAbort, runCheck, type RunCheckOptions } from './check-runner.js'
import { comparesOnly } from './check-order.js'
import { ALONE, MeasureGate } from './measure-gate.js'
import { defineExecutor, type ExecuteOptions, type ExecuteResult } from '../../api/executor.js'
import type { MeasureClaim } from '../../api/kind.js'
import type { CheckSandboxes } from '../../api/kind.js'
import { checkIdentity, planState } from '../../verdict-builder.js'
import type { CheckResult, PlanResult } from '../../verdict.js'

export type { ExecuteOptions, ExecuteResult, ExecutorReporter } from '../../api/executor.js'

/** The default run seed, so two runs without `--seed` generate the same inputs. */
export const DEFAULT_SEED = 1

/** A check's seed: stable for a run seed, a plan and a check, independent of scheduling. */
export function checkSeed(runSeed: number, plan: string, checkId: string): number {
  const digest = createHash('sha256').update(`${runSeed}\0${plan}\0${checkId}`).digest()
  return digest.readUInt32BE(0)
}

/**
 * A claim's services with everything they call, on both sides; a sandbox that does not know its
 * services' dependencies makes the measurement run alone.
 */
export function closeClaim(claim: MeasureClaim, sandboxes: CheckSandboxes): MeasureClaim {
  const services = claim.resources.filter((r) => r.startsWith('service:')).map((r) => r.slice(8))
  if (services.length === 0) return claim
  const resources = new Set(claim.resources)
  for (const sandbox of [sandboxes.candidate, sandboxes.baseline]) {
    if (!sandbox) continue
    const graph = sandbox.dependencies
    if (!graph) return { ...claim, resources: [ALONE] }
    const todo = [...services]
    while (todo.length) {
      const s = todo.pop()!
      for (const d of graph[s] ?? []) {
        if (resources.has(`service:${d}`)) continue
        resources.add(`service:${d}`)
        todo.push(d)
      }
    }
  }
  return { ...claim, resources: [...resources].sort() }
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

  const gate = new MeasureGate()
  // Open once the comparing checks have ended (or the run has): `ctx.afterComparisons` of measuring kinds.
  let comparisonsEnded!: () => void
  const compared = new Promise<void>((resolve) => (comparisonsEnded = resolve))
  const runOne = async (
    plan: Plan,
    check: CheckBlock,
    measure?: Pick<RunCheckOptions, 'measure' | 'warmUp'>,
    afterComparisons?: () => Promise<void>,
  ): Promise<CheckResult> => {
    const base = checkIdentity(plan, check)
    const kind = options.kinds[check.kind]
    const deferred = options.defer?.(plan, check)
    let result: CheckResult
    if (deferred !== undefined) {
      result = { ...base, state: 'skipped', note: deferred }
    } else if (controller.signal.aborted) {
      const reason = controller.signal.reason as CheckAbort
      result = { ...base, state: 'skipped', note: `not started: ${reason.message}` }
    } else if (!kind) {
      result = unknownKind(plan, check)
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
        ...(options.copies ? { copies: options.copies } : {}),
        ...measure,
        ...(afterComparisons ? { afterComparisons } : {}),
        ...(options.memory ? { memory: options.memory(plan.name, check.name) } : {}),
        nested: (inner, sandboxes, signal, timeoutMs) => {
          const innerKind = options.kinds[inner.kind]
          const innerSeed = checkSeed(runSeed, plan.name, inner.id)
          if (!innerKind) return Promise.resolve(unknownKind(plan, inner))
          return runCheck({
            plan,
            check: inner,
            kind: innerKind,
            sandboxes,
            clients: options.clients,
            redactor: options.redactor,
            vars: options.createVariables(plan, inner, innerSeed),
            seed: innerSeed,
            timeoutMs,
            signal,
            ...(options.logs ? { logs: options.logs } : {}),
            ...(options.addresses ? { addresses: options.addresses } : {}),
            ...(options.copies ? { copies: options.copies } : {}),
          })
        },
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
    // Shared checks run in parallel under the concurrency limit. A kind with `exclusive: 'measure'` starts
    // with them (its set-up overlaps theirs) and only its `ctx.measure` waits at the gate; one with
    // `exclusive: true` waits at the gate whole. The gate opens once every shared check has ended and every
    // `'measure'` check has come to it (asked to measure or to warm up) or ended: what such a check does
    // beside the others before that is their traffic too (an event check's observation triggers writes and
    // captures every message, so a measurement's requests must not start under it).
    // Among the shared checks, those that compare with the baseline and change nothing run first, the others
    // once they have all ended (check-order.ts): a check creating data never shows in a comparison.
    // Results are collected by position, so neither the finishing order nor the phase shows in the output.
    const exclusive = (check: CheckBlock) => options.kinds[check.kind]?.meta.exclusive ?? false
    const first = (check: CheckBlock) =>
      comparesOnly(check.params, options.kinds[check.kind]?.meta.requiresBaseline === true)
    const id = (plan: Plan, check: CheckBlock) => `${plan.name} › ${check.name}`
    const results: CheckResult[][] = options.plans.map((plan) => new Array<CheckResult>(plan.checks.length))
    const measuring: Array<Promise<void>> = []
    const arrivals: Array<Promise<void>> = []
    const shared: Array<Promise<void>> = []
    const later: Array<() => Promise<void>> = []
    for (const [p, plan] of options.plans.entries()) {
      for (const [c, check] of plan.checks.entries()) {
        const mode = exclusive(check)
        const store = (r: CheckResult) => void (results[p]![c] = r)
        if (mode === 'measure') {
          let arrive!: () => void
          arrivals.push(new Promise<void>((resolve) => (arrive = resolve)))
          const measure: Pick<RunCheckOptions, 'measure' | 'warmUp'> = {
            measure: (claim, fn) => {
              arrive()
              return gate.run(id(plan, check), closeClaim(claim, options.sandboxes), fn)
            },
            warmUp: (claim, fn) => {
              arrive()
              return gate.early(id(plan, check), closeClaim(claim, options.sandboxes), fn)
            },
          }
          measuring.push(
            runOne(plan, check, measure, () => compared)
              .finally(arrive)
              .then(store),
          )
        } else if (mode === true) {
          measuring.push(
            gate.run(id(plan, check), { resources: [], cores: 1 }, () => runOne(plan, check)).then(store),
          )
        } else if (first(check)) {
          shared.push(limit(() => runOne(plan, check)).then(store))
        } else {
          later.push(() => limit(() => runOne(plan, check)).then(store))
        }
      }
    }
    await Promise.all(shared)
    comparisonsEnded()
    await Promise.all(later.map((start) => start()))
    await Promise.all(arrivals)
    gate.open()
    await Promise.all(measuring)
    noteMeasuredTogether(options.plans, results, gate.together, id)
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
    comparisonsEnded()
    if (deadline) clearTimeout(deadline)
    options.signal?.removeEventListener('abort', onCancel)
  }
}

function unknownKind(plan: Plan, check: CheckBlock): CheckResult {
  return {
    ...checkIdentity(plan, check),
    state: 'errored',
    durationMs: 0,
    error: { name: 'Error', code: 'VIGIL_UNKNOWN_KIND', message: `unknown check kind "${check.kind}"` },
    findings: [],
  }
}

/** `local`: the checks run in this process, in parallel. */
export default defineExecutor({ execute: executePlans })

/** Each check measured at the same time as others says so, with their names. */
function noteMeasuredTogether(
  plans: readonly Plan[],
  results: CheckResult[][],
  together: ReadonlyMap<string, ReadonlySet<string>>,
  id: (plan: Plan, check: CheckBlock) => string,
): void {
  for (const [p, plan] of plans.entries()) {
    for (const [c, check] of plan.checks.entries()) {
      const others = together.get(id(plan, check))
      const result = results[p]![c]
      if (!others?.size || !result || !('findings' in result)) continue
      result.findings.push({
        message: `Measured at the same time as ${[...others].sort().join(', ')}: they share no service, dependency or load generator, and the machine has the cores for all of them.`,
        severity: 'info',
        messageId: 'measured-together',
      })
    }
  }
}
