/**
 * Starting one side's dependencies (brokers, databases): all of a side's dependencies start in parallel,
 * and each one's endpoint is handed out as soon as it is ready, so a service starts once the dependencies
 * it references are (`{{deps.NAME.url}}` in its env is always an address that answers) while one that
 * references none starts beside them. Resources several sides share (one RabbitMQ server per run) are
 * kept in a `SharedResources` the session stops after every sandbox.
 */
import { InfrastructureError } from '../errors.js'
import { connectProblem } from './readiness.js'
import type {
  DependencyEndpoint,
  DependencyStartContext,
  ResetOptions,
  RunningDependency,
  SharedResource,
} from '../api/dependency.js'
import type { Sandbox } from '../api/sandbox.js'
import type { DependencyKindRegistry, ResolvedDependency } from './config.js'

/** Resources shared by the sandboxes of one run, started on first use, stopped once at the end. */
export class SharedResources {
  private readonly started = new Map<string, Promise<SharedResource<unknown>>>()

  get<T>(key: string, start: () => Promise<SharedResource<T>>): Promise<T> {
    let entry = this.started.get(key)
    if (!entry) {
      entry = start() as Promise<SharedResource<unknown>>
      this.started.set(key, entry)
    }
    return entry.then((resource) => resource.value as T)
  }

  /** Stops every resource that started. Never throws. */
  async stop(): Promise<void> {
    const all = [...this.started.values()]
    this.started.clear()
    await Promise.allSettled(all.map(async (p) => (await p).stop()))
  }
}

export interface StartDependenciesOptions {
  sandbox: string
  runId: string
  roots: DependencyStartContext['roots']
  dependencies: readonly ResolvedDependency[]
  kinds: DependencyKindRegistry
  shared: SharedResources
  signal: AbortSignal
  allowHosts: readonly string[]
  log(line: string): void
  track?: DependencyStartContext['track']
  redactor?: { text(input: string): string }
  locate(keyPath: readonly (string | number)[]): string
}

export interface LaunchedDependencies {
  /** Each dependency's endpoint, settled once that one is ready (or failed). */
  endpoints: Readonly<Record<string, Promise<DependencyEndpoint>>>
  /** Every dependency, once all are ready; on any failure, rejects after stopping those that started. */
  all: Promise<RunningDependency[]>
}

/** Starts a side's dependencies; on any failure stops those that started and rejects with the first failure. */
export function startDependencies(options: StartDependenciesOptions): LaunchedDependencies {
  const started: RunningDependency[] = []
  const each = options.dependencies.map(async (dep) => {
    const kind = options.kinds[dep.kind]!
    const begin = performance.now()
    const ctx: DependencyStartContext = {
      sandbox: options.sandbox,
      name: dep.name,
      roots: options.roots,
      runId: options.runId,
      signal: options.signal,
      allowHosts: options.allowHosts,
      log: options.log,
      ...(options.track ? { track: options.track } : {}),
      ...(options.redactor ? { redactor: options.redactor } : {}),
      where: (keyPath) => options.locate(['dependencies', dep.name, ...keyPath]),
      shared: (key, start) => options.shared.get(key, start),
    }
    const running = await kind.start(dep.options as never, ctx)
    started.push(running)
    options.log(
      `${options.sandbox} sandbox, dependency ${dep.name} (${dep.kind}): ready at ${withoutPassword(running.endpoint.url)} — ${running.endpoint.isolation} (${Math.round(performance.now() - begin)}ms)`,
    )
    return running
  })
  const all = (async () => {
    const results = await Promise.allSettled(each)
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) {
      await Promise.allSettled(started.map((d) => d.stop()))
      throw failed.reason
    }
    return results.map((r) => (r as PromiseFulfilledResult<RunningDependency>).value)
  })()
  const endpoints = Object.fromEntries(
    options.dependencies.map((dep, i) => {
      const endpoint = each[i]!.then((running) => running.endpoint)
      // Whoever waits on it sees the failure; `all` reports it either way.
      endpoint.catch(() => undefined)
      return [dep.name, endpoint] as const
    }),
  )
  return { endpoints, all }
}

/**
 * The sandbox a provider returned, with its dependencies: their endpoints, their logs (`logs('deps.bus')`),
 * a reset of them all (a warm session's next iteration), and a `stop()` that stops them after the services
 * that use them.
 */
export function withDependencies(sandbox: Sandbox, running: readonly RunningDependency[]): Sandbox {
  if (running.length === 0) return sandbox
  let endpoints: Readonly<Record<string, DependencyEndpoint>> = {}
  const byName = new Map<string, RunningDependency>()
  const replace = (endpoint: DependencyEndpoint): void => {
    endpoints = Object.freeze({ ...endpoints, [endpoint.name]: Object.freeze({ ...endpoint }) })
  }
  for (const dep of running) {
    replace(dep.endpoint)
    byName.set(dep.endpoint.name, dep)
  }
  let stopping: Promise<void> | undefined
  const inputs = running.every((d) => d.inputs)
    ? { dependencyInputs: Object.freeze([...new Set(running.flatMap((d) => d.inputs!))].sort()) }
    : {}
  return Object.freeze({
    ...sandbox,
    ...inputs,
    // A reset may give a dependency new settings (the migrations applied): checks read them when they run.
    get deps() {
      return endpoints
    },
    dependencyLogs(name: string): string[] {
      return byName.get(name)?.logs() ?? []
    },
    deadDependencies() {
      return [...byName]
        .map(([name, dep]) => ({ name, how: dep.died?.() }))
        .filter((d): d is { name: string; how: string } => d.how !== undefined)
    },
    async unansweredDependencies(timeoutMs: number) {
      // Those whose server vigil watches say so by died(); the others (a url: server) are asked once.
      const unwatched = [...byName].filter(([, dep]) => !dep.died).map(([name]) => name)
      const probed = await Promise.all(
        unwatched.sort().map(async (name) => {
          const { host, port, kind } = endpoints[name]!
          const problem = await connectProblem(host, port, timeoutMs)
          return { name, how: problem && `(${kind}) at ${host}:${port} does not answer (${problem})` }
        }),
      )
      return probed.filter((d): d is { name: string; how: string } => d.how !== undefined)
    },
    async resetDependencies(signal: AbortSignal, options?: ResetOptions): Promise<Record<string, string>> {
      const names = [...byName.keys()].sort()
      const done = await Promise.all(
        names.map(async (name) => {
          const dep = byName.get(name)!
          try {
            const reset = await dep.reset(signal, options)
            if (reset.endpoint) replace({ ...reset.endpoint, name })
            return reset.done
          } catch (error) {
            throw new InfrastructureError(
              `${sandbox.name} sandbox, dependency ${name} (${dep.endpoint.kind}): could not be reset: ${(error as Error).message}`,
              dep.logs().slice(-50),
              { code: 'VIGIL_DEPENDENCY_RESET', cause: error },
            )
          }
        }),
      )
      return Object.fromEntries(names.map((name, i) => [name, done[i]!]))
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        await sandbox.stop()
        await Promise.allSettled(running.map((d) => d.stop()))
      })()
      return stopping
    },
  })
}

/** The infrastructure error of a dependency that stopped a side from starting, as is when it is one. */
export function dependencyFailure(sandbox: string, error: unknown): unknown {
  if (error instanceof Error && !(error instanceof InfrastructureError) && !('code' in error)) {
    return new InfrastructureError(`${sandbox} sandbox: a dependency did not start: ${error.message}`, [], {
      code: 'VIGIL_DEPENDENCY_START',
      cause: error,
    })
  }
  return error
}

/** A URL as logs show it: a password in it (a database's) replaced by `***`. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url)
    if (!parsed.password) return url
    parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}

/** A dependency of a side out of service: its sandbox, its name, and `<side> sandbox, dependency <name> <how>`. */
export interface DependencyTrouble {
  side: Sandbox
  name: string
  line: string
}

function troubles(side: Sandbox, found: ReadonlyArray<{ name: string; how: string }>): DependencyTrouble[] {
  return found.map(({ name, how }) => ({
    side,
    name,
    line: `${side.name} sandbox, dependency ${name} ${how}`,
  }))
}

/**
 * The dependencies of `sides` whose server vigil does not watch (`url:`) that do not accept a connection now
 * (`candidate sandbox, dependency bus (nats) at 127.0.0.1:4222 does not answer (ECONNREFUSED)`).
 */
export async function unansweredDependencies(
  sides: ReadonlyArray<Sandbox | undefined>,
  timeoutMs: number,
): Promise<DependencyTrouble[]> {
  const each = await Promise.all(
    sides.map(async (side) =>
      side ? troubles(side, (await side.unansweredDependencies?.(timeoutMs)) ?? []) : [],
    ),
  )
  return each.flat()
}

/** Each dependency of these sandboxes whose server ended on its own (one vigil started). */
export function deadDependencies(sides: ReadonlyArray<Sandbox | undefined>): DependencyTrouble[] {
  return sides.flatMap((side) => (side ? troubles(side, side.deadDependencies?.() ?? []) : []))
}
