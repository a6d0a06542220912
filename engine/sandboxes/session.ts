/** Starting the candidate (and baseline) sandboxes of a run, from their sources, and stopping it all. */
import path from 'node:path'
import type { Redactor } from '../http/redact.js'
import { InfrastructureError, isKnownError } from '../errors.js'
import { onShutdown } from '../lifecycle.js'
import { configRedactor, declaredSecrets } from '../vars.js'
import type { TimingEntry } from '../verdict.js'
import {
  resolveSandboxConfig,
  type DependencyKindRegistry,
  type ProviderRegistry,
  type SandboxConfigSource,
} from './config.js'
import { dependencyFailure, SharedResources, startDependencies, withDependencies } from './dependencies.js'
import { leftoverNotice } from './leftovers.js'
import { RunState } from '../processes/run-state.js'
import { patchedSource, worktreeSource, type SourceTree } from './source.js'
import type { Sandbox } from '../api/sandbox.js'
import type { SideIdentity } from '../verdict.js'
import { describeSides } from './sides.js'

export interface StartSandboxesOptions {
  /** The loaded config (`LoadedConfig` from plans/config.ts). */
  loaded: SandboxConfigSource
  /** Git ref the baseline runs from (a temporary worktree). @default the working tree */
  base?: string
  /** Patch file the candidate runs with (applied to a temporary copy), relative to `cwd`. */
  patch?: string
  /** Start a baseline sandbox too. @default true */
  baseline?: boolean
  signal: AbortSignal
  /** Progress lines for the user (which service started where). */
  log(line: string): void
  /** Directory a relative `patch` path resolves against. @default process.cwd() */
  cwd?: string
  /** Redacts error messages and log tails. @default one built from the config's `secrets` (vars.ts `configRedactor`) */
  redactor?: Redactor
  /** Names the session's state file (see run-state.ts), e.g. the verdict's run id. @default a random UUID */
  runId?: string
}

export interface SandboxSession {
  candidate: Sandbox
  baseline?: Sandbox
  /** `source:patch`, `source:base`, `sandbox:candidate`, `sandbox:baseline` (and `sandbox:stop` once stopped). */
  timings: TimingEntry[]
  /** Which builds the sides are: where each ran from, and what each service ran as. */
  sides: { candidate: SideIdentity; baseline?: SideIdentity }
  /** Stops every service and removes every temporary tree. Idempotent; never throws. */
  stop(): Promise<void>
  /**
   * A baseline run from a worktree of `base` only: moves the worktree to another commit in place (see
   * SourceTree.checkout) and returns the files that differ, relative to the config's folder. The running
   * services are not restarted: the caller restarts those whose files changed.
   */
  moveBaseline?(commit: string): Promise<string[]>
}

export async function startSession(
  options: StartSandboxesOptions,
  providers: ProviderRegistry,
  dependencyKinds: DependencyKindRegistry = {},
): Promise<SandboxSession> {
  const { loaded, signal } = options
  const wantBaseline = options.baseline ?? true
  const redactor = options.redactor ?? configRedactor(loaded)
  const secrets = Object.fromEntries(declaredSecrets(loaded).map((s) => [s.name, s.value]))
  // Config problems surface before anything is created.
  const configs = {
    candidate: resolveSandboxConfig(loaded, 'candidate', providers, dependencyKinds),
    baseline: wantBaseline ? resolveSandboxConfig(loaded, 'baseline', providers, dependencyKinds) : undefined,
  }
  if (options.base && !wantBaseline) options.log(`--base ${options.base} is ignored: the run has no baseline`)

  // Leftovers of runs that died without cleaning up are named before this run adds its own things.
  const notice = leftoverNotice()
  if (notice) options.log(notice)
  const state = new RunState(options.runId)
  if (state.problem) options.log(state.problem)

  const timings: TimingEntry[] = []
  const timed = async <T>(phase: string, work: Promise<T>): Promise<T> => {
    const begin = performance.now()
    try {
      return await work
    } finally {
      timings.push({ phase, durationMs: Math.round(performance.now() - begin) })
    }
  }
  const trees: SourceTree[] = []
  const sandboxes: Sandbox[] = []
  const shared = new SharedResources()
  const pending = new Set<Promise<unknown>>()
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const begin = performance.now()
      await Promise.allSettled(sandboxes.map((s) => s.stop()))
      // Dependencies of a side still starting stop themselves once started (see below); the run's shared
      // servers go once nothing can still use them.
      await Promise.allSettled(pending)
      await shared.stop()
      await Promise.allSettled(trees.map((t) => t.cleanup()))
      timings.push({ phase: 'sandbox:stop', durationMs: Math.round(performance.now() - begin) })
      unregister()
      state.close()
    })())
  const unregister = onShutdown(stop)
  const failFast = new AbortController()
  const onAbort = (): void => failFast.abort(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })

  try {
    const roots = { candidate: loaded.dir, baseline: loaded.dir }
    const sourceTrees: { candidate?: SourceTree; baseline?: SourceTree } = {}
    const patchFile = options.patch ? path.resolve(options.cwd ?? process.cwd(), options.patch) : undefined
    await settleAll([
      patchFile &&
        timed('source:patch', patchedSource(loaded.dir, patchFile, state)).then((tree) => {
          trees.push(tree)
          sourceTrees.candidate = tree
          roots.candidate = tree.root
        }),
      options.base &&
        wantBaseline &&
        timed('source:base', worktreeSource(loaded.dir, options.base, state)).then((tree) => {
          trees.push(tree)
          sourceTrees.baseline = tree
          roots.baseline = tree.root
          for (const note of tree.notes ?? []) options.log(note)
        }),
    ])
    throwIfAborted(signal)
    await settleAll(
      (['candidate', 'baseline'] as const).map((name) => {
        const resolved = configs[name]
        if (!resolved) return undefined
        const provider = providers[resolved.provider]!
        const started = (async () => {
          // The side's dependencies and its services start at once: a service waits only for the
          // dependencies it references (the provider awaits their endpoints), the others start beside them.
          const side = new AbortController()
          const sideSignal = AbortSignal.any([failFast.signal, side.signal])
          const deps = startDependencies({
            sandbox: name,
            runId: state.id,
            roots,
            dependencies: resolved.dependencies,
            kinds: dependencyKinds,
            shared,
            signal: sideSignal,
            allowHosts: loaded.config.allowHosts ?? [],
            log: options.log,
            track: state,
            redactor,
            locate: resolved.locate,
          })
          // Whichever fails first is the cause: the other side of the start is stopped for it.
          let first: 'dependency' | 'services' | undefined
          for (const endpoint of Object.values(deps.endpoints))
            endpoint.catch(() => {
              first ??= 'dependency'
            })
          const running = deps.all.catch((error: unknown) => {
            side.abort()
            throw dependencyFailure(name, error)
          })
          const services = provider
            .start(resolved.options as never, {
              name,
              root: roots[name],
              configDir: loaded.dir,
              signal: sideSignal,
              allowHosts: loaded.config.allowHosts ?? [],
              secrets,
              redactor,
              log: options.log,
              where: resolved.locate,
              track: state,
              dependencies: deps.endpoints,
            })
            .catch((error: unknown) => {
              first ??= 'services'
              side.abort()
              throw error
            })
          const [up, sandbox] = await Promise.allSettled([running, services])
          if (up.status === 'fulfilled' && sandbox.status === 'fulfilled')
            return withDependencies(sandbox.value, up.value)
          if (sandbox.status === 'fulfilled') await sandbox.value.stop()
          if (up.status === 'fulfilled') await Promise.allSettled(up.value.map((d) => d.stop()))
          throw first === 'dependency' && up.status === 'rejected'
            ? up.reason
            : (sandbox as PromiseRejectedResult).reason
        })()
        pending.add(started.catch(() => undefined))
        return timed(`sandbox:${name}`, started).then(
          (sandbox) => {
            sandboxes.push(sandbox)
            // Stopped right away if the run was torn down while this one was still starting.
            if (stopping) void sandbox.stop()
          },
          (error: unknown) => {
            failFast.abort()
            throw error
          },
        )
      }),
    )
    throwIfAborted(signal)
    const find = (name: string): Sandbox | undefined => sandboxes.find((s) => s.name === name)
    const candidate = find('candidate')!
    const baseline = find('baseline')
    const sides = await describeSides({
      configDir: loaded.dir,
      cwd: options.cwd ?? process.cwd(),
      base: options.base,
      patch: options.patch,
      candidateTree: sourceTrees.candidate,
      baselineTree: sourceTrees.baseline,
      baselineSection: loaded.config.baseline,
      providers: { candidate: configs.candidate.provider, baseline: configs.baseline?.provider },
      candidate,
      baseline,
    })
    const result: SandboxSession = { candidate, baseline, timings, stop, sides: redactor.json(sides) }
    const baselineTree = sourceTrees.baseline
    if (baseline && baselineTree?.checkout) {
      result.moveBaseline = async (commit) => {
        const files = await baselineTree.checkout!(commit)
        const source = result.sides.baseline?.source
        if (source) source.commit = commit
        return files
      }
    }
    return result
  } catch (error) {
    await stop()
    throw redactError(error, redactor)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Waits for every task; then rethrows the first real failure in list order (the candidate's before the baseline's). */
async function settleAll(tasks: Array<Promise<void> | undefined | false | '' | null>): Promise<void> {
  const results = await Promise.allSettled(tasks.map((t) => t || undefined))
  const failed = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason)
  // A sandbox cancelled because the other one failed is not the cause: report the failure itself.
  const cause = failed.find((e) => (e as { code?: unknown })?.code !== 'VIGIL_CANCELLED') ?? failed[0]
  if (failed.length > 0) throw cause
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) {
    throw new InfrastructureError('sandboxes: start was cancelled', [], {
      code: 'VIGIL_CANCELLED',
      cause: signal.reason,
    })
  }
}

function redactError(error: unknown, redactor: Redactor): unknown {
  if (!isKnownError(error)) return error
  const message = redactor.text(error.message)
  if (error instanceof InfrastructureError) {
    const tail = error.logTail.map((line) => redactor.text(line))
    if (message === error.message && tail.every((line, i) => line === error.logTail[i])) return error
    // A fresh error without `cause`: the original carries the unredacted text.
    return new InfrastructureError(message, tail, { code: error.code })
  }
  if (message !== error.message) error.message = message
  return error
}
