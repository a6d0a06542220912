/**
 * `runValidation`: load the config and plans, start the sandboxes, run the checks, build the verdict,
 * stop everything — and always return a verdict, also when the validation itself could not run.
 */
import path from 'node:path'
import { loadConfig, type LoadedConfig } from '../../plans/config.js'
import { readChange, readDiffFile } from '../../selectors/index.js'
import type { LoadPlansResult } from '../../plans/loader.js'
import { loadPlansForRun } from './load-plans.js'
import type { Plan } from '../../plans/types.js'
import { checkKinds } from '../kinds/index.js'
import type { AnyCheckKind, CheckMemory } from '../api/kind.js'
import { clients, openClients, SandboxAddresses, type OpenClients } from '../clients/index.js'
import { ConfigError, InfrastructureError } from '../errors.js'
import {
  CheckAbort,
  DEFAULT_SEED,
  executors,
  type ExecutorName,
  type ExecutorReporter,
} from '../executors/index.js'
import { Redactor } from '../http/redact.js'
import { onShutdown } from '../lifecycle.js'
import {
  choosePlans,
  diagnosticError,
  planInfo,
  redactingReporter,
  runIdentity,
  toRunError,
} from './run-support.js'
import {
  deadDependencies,
  startSandboxes,
  type DependencyTrouble,
  unansweredDependencies,
  type SandboxSession,
} from '../sandboxes/index.js'
import { watchServices } from './service-resources.js'
import { configRedactor, Variables } from '../vars.js'
import { buildVerdict } from '../verdict-builder.js'
import type {
  RunError,
  RunStartInfo,
  TimingEntry,
  Verdict,
  VerdictResources,
  VerdictSelection,
  VerdictSession,
} from '../verdict.js'
import type { CheckBlock } from '../../plans/types.js'

/** The hooks a run calls; the reporters' multiplexer is one. */
export interface RunReporter extends ExecutorReporter {
  onRunStart?(info: RunStartInfo): unknown
  onRunEnd?(verdict: Verdict): unknown
}

export interface RunOptions {
  /** Path of vigil.config.yaml. @default `vigil.config.yaml` in `cwd`, else the defaults */
  configPath?: string
  /** Folder paths are relative to and reported against. @default process.cwd() */
  cwd?: string
  /** Git ref the baseline runs from. @default the working tree */
  base?: string
  /** Patch applied to the candidate (relative to `cwd`). */
  patch?: string
  /** Start a baseline sandbox. @default true */
  baseline?: boolean
  /** Plan files or folders (relative to `cwd`) to load instead of the config's `plans`. @default the config's */
  planRoots?: readonly string[]
  /** Run only these plans (ignored when `selection` is given). @default all plans */
  planNames?: string[]
  /** A selector's record: its plans run, and it is kept in the verdict. */
  selection?: VerdictSelection
  /** @default the config's `concurrency` */
  concurrency?: number
  /** @default 1 */
  seed?: number
  reporter?: RunReporter
  /** Aborting cancels the run (in-flight checks end as cancelled); a verdict is still returned. */
  signal?: AbortSignal
  /** Who asked for the run. @default env VIGIL_REQUESTER */
  requester?: string
  /** Progress lines (sandbox start-up, warnings). @default none */
  log?: (line: string) => void
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>
  /** Where checks run: `local` (in this process) or `kubernetes` (as Jobs in the cluster). @default the config's `executor.kind` */
  executor?: string
  /** The run's id (the verdict's `identity.runId`). @default a random UUID */
  runId?: string
  /** A warm session's pieces the run uses instead of loading and starting its own. @default none */
  warm?: WarmRun
}

/**
 * What a warm session (`vigil dev`) lends one run: its config, catalog, sandboxes and clients, which the
 * run uses and never stops, and its account of the iteration for the verdict.
 */
export interface WarmRun {
  loaded: LoadedConfig
  catalog: LoadPlansResult
  sandboxes: SandboxSession
  clients: OpenClients
  addresses: SandboxAddresses
  /** What the session did before the run (restarts, rebuilds), for the verdict's timings. */
  timings: TimingEntry[]
  /** The verdict's `session`. */
  session: VerdictSession
  /** HEAD of the config's repository as the session read it for this run (null: none), for the run's identity. */
  commit?: string | null
  /**
   * When the iteration began, before its resets and restarts: the verdict's start and duration (and the run's
   * deadline) are the iteration's, not only its checks'.
   */
  began?: { at: Date; ms: number }
  memory(plan: string, check: string): CheckMemory
  defer(plan: Plan, check: CheckBlock): string | undefined
}

/** Lines of a dependency's log given with its error. */
const DEPENDENCY_LOG_TAIL = 50
/** How often the checks look for a dependency that died. */
const DEATH_POLL_MS = 250

/** How long a run whose checks failed waits for each dependency to accept a connection. */
const ANSWER_TIMEOUT_MS = 1_000

/**
 * A run error for each dependency found out of service, with its last log lines: a broker or database vigil
 * started that ended on its own before the checks did (`VIGIL_DEPENDENCY_DIED`), or one vigil does not watch
 * (`url:`) that does not accept a connection once checks have failed (`VIGIL_DEPENDENCY_UNANSWERED`). What
 * failed against it may be its doing, not the change's, so the run is an infrastructure error (exit 3), never
 * a verdict on the change. A warm session starts the sandboxes again.
 */
function dependencyErrors(
  found: readonly DependencyTrouble[],
  when: string,
  code: 'VIGIL_DEPENDENCY_DIED' | 'VIGIL_DEPENDENCY_UNANSWERED',
  redactor: Redactor,
): RunError[] {
  return found.map(({ side, name, line }) =>
    toRunError(
      new InfrastructureError(
        `${line} ${when}: what failed against it may be its doing, not the change's`,
        side.dependencyLogs?.(name).slice(-DEPENDENCY_LOG_TAIL) ?? [],
        { code },
      ),
      redactor,
    ),
  )
}

/** Why `--patch FILE` cannot be used as a change (a DiffError), or undefined. */
async function patchProblem(file: string, cwd: string, configDir: string): Promise<unknown> {
  try {
    const text = await readDiffFile(file, cwd, `--patch ${file}`)
    await readChange({ kind: 'patch', text, file }, configDir)
    return undefined
  } catch (error) {
    return error
  }
}

async function safely(hook: (() => unknown) | undefined): Promise<void> {
  try {
    await hook?.()
  } catch {
    // The reporters' multiplexer records its own failures; a hook must never lose the verdict.
  }
}

export async function runValidation(options: RunOptions = {}): Promise<Verdict> {
  const startedAt = options.warm?.began?.at ?? new Date()
  const started = options.warm?.began?.ms ?? performance.now()
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const env = options.env ?? process.env
  const log = options.log ?? (() => undefined)
  const seed = options.seed ?? DEFAULT_SEED
  let redactor = new Redactor()
  // Every event a reporter hears is redacted first, with the secrets known when it is sent.
  const reporter = redactingReporter(options.reporter ?? {}, () => redactor)
  const signal = options.signal ?? new AbortController().signal
  const timings: TimingEntry[] = []
  const errors: RunError[] = []
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const begin = performance.now()
    try {
      return await work()
    } finally {
      timings.push({ phase, durationMs: performance.now() - begin })
    }
  }

  const warm = options.warm
  let loaded: LoadedConfig
  try {
    loaded = warm?.loaded ?? (await loadConfig(options.configPath, cwd))
    redactor = configRedactor(loaded, env)
  } catch (error) {
    errors.push(toRunError(error, redactor))
    const identity = await runIdentity({ configDir: cwd, ...options, seed, env })
    return finish({ identity, plans: [], cancelled: false })
  }
  const { config } = loaded
  const identity = await runIdentity({
    configDir: loaded.dir,
    ...options,
    ...(warm?.commit !== undefined ? { commit: warm.commit } : {}),
    seed,
    env,
  })
  if (loaded.found) identity.config = path.relative(cwd, loaded.file) || path.basename(loaded.file)

  // Plans: a broken plan is a run error (exit 2), and the plans that loaded still run.
  let result: LoadPlansResult
  try {
    result = warm?.catalog ?? (await timed('plans', () => loadPlansForRun(loaded, options.planRoots, cwd)))
  } catch (error) {
    errors.push(toRunError(error, redactor))
    return finish({ identity, plans: [], cancelled: false })
  }
  for (const d of result.diagnostics) {
    if (d.severity === 'error') errors.push(diagnosticError(d))
    else log(`warning: ${d.file}:${d.line}:${d.column} ${d.message}`)
  }
  const choice = choosePlans(result.plans, options.planNames, options.selection)
  errors.push(...choice.errors)
  // The patch is read as every command reads a change: text that is not a diff is a usage error (exit 2),
  // found before any sandbox starts rather than as a failed `git apply` (exit 3).
  const badPatch = options.patch !== undefined && (await patchProblem(options.patch, cwd, loaded.dir))
  if (badPatch) errors.push(toRunError(badPatch, redactor))
  // A warm session's sandboxes are local processes: its checks run here, where its memory is.
  const executorName = options.executor ?? (warm ? 'local' : config.executor.kind)
  const executor = Object.hasOwn(executors, executorName)
    ? executors[executorName as ExecutorName]
    : undefined
  if (!executor)
    errors.push(
      toRunError(
        new ConfigError(
          `executor "${executorName}" is unknown; expected one of ${Object.keys(executors).join(', ')}`,
        ),
        redactor,
      ),
    )
  const plans = badPatch || !executor ? [] : choice.plans
  const startInfo = (sandboxes: RunStartInfo['sandboxes']): RunStartInfo => ({
    runId: identity.runId,
    startedAt: startedAt.toISOString(),
    selection: choice.selection,
    plans: plans.map(planInfo),
    sandboxes,
  })
  if (plans.length === 0) {
    await safely(() => reporter.onRunStart?.(startInfo([])))
    return finish({ identity, plans: [], cancelled: signal.aborted, selection: choice.selection })
  }

  let session: SandboxSession | undefined = warm?.sandboxes
  let resources: VerdictResources | undefined
  let opened: OpenClients | undefined = warm?.clients
  const unregister = warm
    ? () => undefined
    : onShutdown(async () => {
        await session?.stop()
      })
  try {
    try {
      session ??= await startSandboxes({
        loaded,
        base: options.base,
        patch: options.patch,
        baseline: options.baseline ?? true,
        signal,
        log,
        cwd,
        redactor,
        runId: identity.runId,
      })
    } catch (error) {
      errors.push(toRunError(error, redactor))
      await safely(() => reporter.onRunStart?.(startInfo([])))
      return finish({ identity, plans: [], cancelled: signal.aborted, selection: choice.selection })
    }
    timings.push(...(warm ? warm.timings : session.timings))
    // A copy: a warm session's sides move on (a new HEAD, a moved base), an earlier verdict's do not.
    identity.sides = structuredClone(session.sides)
    const { candidate, baseline } = session
    const urls = (s: typeof candidate) =>
      Object.fromEntries(Object.entries(s.services).map(([k, v]) => [k, v.url]))
    await safely(() =>
      reporter.onRunStart?.(
        startInfo([
          { name: candidate.name, services: urls(candidate) },
          ...(baseline ? [{ name: baseline.name, services: urls(baseline) }] : []),
        ]),
      ),
    )
    // Clients are opened for the kinds that will run, bound to these sandboxes' addresses.
    const kinds: Readonly<Record<string, AnyCheckKind>> = checkKinds
    const needs = plans.flatMap((p) => p.checks.flatMap((c) => kinds[c.kind]?.meta.needs ?? []))
    const addresses = warm?.addresses ?? SandboxAddresses.of([candidate, baseline])
    opened ??= openClients(clients, needs, {
      redactor,
      addresses,
      ...(config.logs.requestId ? { requestIdHeader: config.logs.requestId } : {}),
    })
    // Every service's RSS, CPU, descriptors and threads while the checks run, and each copy a check starts
    // while it lives, for the verdict.
    const watch = watchServices([candidate, baseline])
    // A broker or database that ends on its own stops the checks: what they would still do is against a
    // server that is gone, and the run becomes an infrastructure error (dependencyErrors).
    const deaths = new AbortController()
    const deathWatch = setInterval(() => {
      const [first] = deadDependencies([candidate, baseline])
      if (!first) return
      clearInterval(deathWatch)
      deaths.abort(
        new CheckAbort('VIGIL_DEPENDENCY_DIED', `${first.line}: the checks still running were stopped`),
      )
    }, DEATH_POLL_MS)
    // `kubernetes`: the same plans run as Jobs in the cluster; their verdicts come back as the same results.
    const executed = await timed('checks', () =>
      executor!
        .execute({
          loaded,
          runId: identity.runId,
          env,
          log,
          plans,
          kinds,
          sandboxes: baseline ? { candidate, baseline } : { candidate },
          clients: opened!.byName,
          addresses,
          copies: watch,
          redactor,
          createVariables: (plan: Plan, _check, checkSeed) =>
            new Variables({
              vars: plan.vars,
              envAllow: config.env,
              env,
              secrets: config.secrets,
              services: urls(candidate),
              defaultService: candidate.defaultService,
              seed: checkSeed,
              redactor,
            }),
          concurrency: options.concurrency ?? config.concurrency,
          checkTimeoutMs: config.checkTimeoutMs,
          deadlineMs: Math.max(1, config.timeoutMs - (performance.now() - started)),
          seed,
          signal: AbortSignal.any([signal, deaths.signal]),
          reporter,
          logs: { graceMs: config.logs.graceMs, maxLines: config.logs.lines },
          ...(warm ? { memory: warm.memory, defer: warm.defer } : {}),
        })
        .catch((error: unknown) => {
          // An executor that cannot run at all (no cluster, bad options) is a run error; the verdict stands.
          errors.push(toRunError(error, redactor))
          return { plans: [], cancelled: signal.aborted, timings: [] }
        })
        .finally(() => {
          clearInterval(deathWatch)
          resources = watch.stop()
        }),
    )
    timings.push(...executed.timings)
    const dead = deadDependencies([candidate, baseline])
    errors.push(...dependencyErrors(dead, 'before the checks ended', 'VIGIL_DEPENDENCY_DIED', redactor))
    const failed = executed.plans.some((p) =>
      p.checks.some((c) => c.state === 'failed' || c.state === 'errored'),
    )
    if (failed && dead.length === 0 && !signal.aborted) {
      const unanswered = await unansweredDependencies([candidate, baseline], ANSWER_TIMEOUT_MS)
      errors.push(
        ...dependencyErrors(unanswered, 'after checks failed', 'VIGIL_DEPENDENCY_UNANSWERED', redactor),
      )
    }
    return await finish({
      identity,
      plans: executed.plans,
      // Stopped for a dead dependency is not cancelled: the run error says why.
      cancelled: executed.cancelled && !deaths.signal.aborted,
      selection: choice.selection,
      stop: !warm,
      ...(resources ? { resources } : {}),
    })
  } finally {
    if (!warm) {
      await session?.stop()
      unregister()
      await opened?.close()
    }
  }

  async function finish(input: {
    identity: Verdict['identity']
    plans: Verdict['plans']
    cancelled: boolean
    selection?: VerdictSelection
    stop?: boolean
    resources?: VerdictResources
  }): Promise<Verdict> {
    // Stop before the verdict is final so its timings include the teardown.
    if (input.stop && session) await timed('sandbox:stop', () => session!.stop())
    const verdict = buildVerdict({
      startedAt,
      durationMs: performance.now() - started,
      identity: input.identity,
      selection: input.selection,
      plans: input.plans,
      errors,
      timings,
      cancelled: input.cancelled || signal.aborted,
      redactor,
      ...(warm ? { session: warm.session } : {}),
      ...(input.resources ? { resources: input.resources } : {}),
    })
    await safely(() => reporter.onRunEnd?.(verdict))
    return verdict
  }
}
