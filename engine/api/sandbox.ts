import type { JsonSchema } from '../../plans/types.js'
import type { HttpRequestSpec } from '../http/client.js'
import type { RequestObject } from './vocabulary.js'
import { InfrastructureError, VigilError } from '../errors.js'
import type { RunTracker } from '../processes/run-state.js'
import type { ServiceBuild } from '../verdict.js'
import type { DependencyEndpoint, ResetOptions } from './dependency.js'

export type { RunTracker, TrackedDatabases, TrackedProcess, TrackedTree } from '../processes/run-state.js'

/** One reachable service of a sandbox. */
export interface ServiceEndpoint {
  name: string
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string
}

/** A named system under test: `candidate` or `baseline`. */
export interface Sandbox {
  readonly name: string
  readonly services: Readonly<Record<string, ServiceEndpoint>>
  /** The service a check uses when it names none. */
  readonly defaultService: string
  /** Headers attached to every request sent to this sandbox (e.g. a routing key). */
  readonly headers: Readonly<Record<string, string>>
  /**
   * The services each service calls (directly), when the provider knows them; absent when it does not
   * (then any service may depend on any other).
   */
  readonly dependencies?: Readonly<Record<string, readonly string[]>>
  /** Base URL of a service (the default one when omitted); throws for an unknown name. */
  url(service?: string): string
  /** Captured log lines of one service, or of all services prefixed with their name. */
  logs(service?: string): string[]
  /** The sandbox's brokers and databases by name (`dependencies:` in the config, `{{deps.NAME.url}}`); absent when it has none. */
  readonly deps?: Readonly<Record<string, DependencyEndpoint>>
  /** Log lines of one dependency (a broker's output). */
  dependencyLogs?(name: string): string[]
  /**
   * Empties every dependency at once (RunningDependency.reset: a database re-branched, a broker's messages
   * purged), for a warm session's next iteration; what each did, by name. Absent without dependencies.
   */
  resetDependencies?(signal: AbortSignal, options?: ResetOptions): Promise<Record<string, string>>
  /** Its dependencies whose server ended on its own, each with how (`was killed by SIGKILL`). */
  deadDependencies?(): Array<{ name: string; how: string }>
  /**
   * Its dependencies whose server vigil does not watch (`url:`; no `died`) that do not accept a TCP connection
   * now, each with how (`(nats) at 127.0.0.1:4222 does not answer (ECONNREFUSED)`): one connection attempt
   * each, for a run whose checks failed. Absent without dependencies.
   */
  unansweredDependencies?(timeoutMs: number): Promise<Array<{ name: string; how: string }>>
  /**
   * The files of the sources its dependencies read when they started (RunningDependency.inputs), relative
   * to the tree the sandbox runs from; absent when one of them may read any file.
   */
  readonly dependencyInputs?: readonly string[]
  /** What each service ran as (command, folder, versions it reported), for the verdict's identity. */
  readonly build?: Readonly<Record<string, ServiceBuild>>
  /** Stops everything this sandbox started. Idempotent; never throws. */
  stop(): Promise<void>
  /**
   * Starts a fresh copy of one service — the same command and environment, wired to the same other
   * services, on an address of its own — for a check that changes state (adversarial `isolation: sandbox`).
   * The sandbox's `stop()` stops it too. Absent when the provider cannot (a `url` sandbox).
   */
  isolate?(service: string, signal: AbortSignal, options?: IsolateOptions): Promise<IsolatedService>
  /**
   * Stops one service and starts it again from its files as they are now, on the same address with the
   * same environment, so the services that call it need no restart (a warm session's candidate). Absent
   * when the provider cannot.
   */
  restart?(service: string, signal: AbortSignal, options?: RestartOptions): Promise<RestartOutcome>
  /**
   * The files each service is built from, as globs relative to `root` (the tree the sandbox runs from):
   * what a warm session watches to know which services to restart. Absent when the provider cannot say.
   */
  readonly files?: Readonly<Record<string, ServiceFiles>>
  /** The process behind each service, and whether it still runs; absent when the provider has none. */
  processes?(): ServiceProcessState[]
  /**
   * The process id of a service (the leader of its process group), for sampling its resources; undefined
   * when the provider runs no local process for it (a `url` or `kubernetes` sandbox).
   */
  pid?(service: string): number | undefined
}

/** How a service is started again. */
export interface RestartOptions {
  /**
   * Run its build step (`prepare:`) again first, while the old process still serves: its files changed.
   * A service restarted because its process died is not built again. @default false
   */
  prepare?: boolean
  /**
   * The new process starts only once this has settled (the side's dependencies being reset meanwhile); the
   * build step and the old process's stop go ahead at once. A rejection fails the restart. @default none
   */
  startAfter?: Promise<unknown>
}

/**
 * A restart that failed because another process took the service's port while it restarted. The address is
 * the sandbox's for as long as it runs (the other services call it), so only a sandbox started afresh gets a
 * new one; any other failed restart may be tried again on the same address.
 */
export class PortTakenError extends InfrastructureError {}

/** What a restart did. */
export interface RestartOutcome {
  /** Its build step ran (it has one, and `prepare` was asked for). */
  prepared: boolean
}

/** Where one service's files are: globs relative to `root`. */
export interface ServiceFiles {
  root: string
  globs: readonly string[]
  /**
   * The folder it runs in, relative to `root` (`.` for `root` itself): the package manifests and lockfiles
   * there and in each folder above it up to `root` (`package.json`, `go.sum`, …) are its files too, whatever
   * its globs, since they say which packages it runs with. @default none
   */
  cwd?: string
  /** It has a build step (`prepare:`), which may write among these files. @default false */
  built?: boolean
}

/** One service's process as a warm session checks it. */
export interface ServiceProcessState {
  service: string
  pid?: number
  /** False once it exited (it crashed, or was killed). */
  running: boolean
}

/** How a copy of a service differs from the original. */
export interface IsolateOptions {
  /**
   * Dependencies the copy is given instead of the sandbox's, by name (`{{deps.db.url}}` → a migrated
   * branch of the database). @default the sandbox's own
   */
  deps?: Readonly<Record<string, DependencyEndpoint>>
  /**
   * Edges to re-route, by the name of the service or dependency the copy calls (`payments`, `db`): the
   * copy is given this address instead of the real one (a fault proxy in front of it), in every
   * `{{services.NAME.…}}` or `{{deps.NAME.…}}` of its command and env. @default {}
   */
  edges?: Readonly<Record<string, { host: string; port: number }>>
}

/** A copy of one service that only the check that asked for it uses. */
export interface IsolatedService {
  /** Base URL without a trailing slash. */
  url: string
  /** Its process id, when it is a local process. */
  pid?: number
  /** Its captured log lines. */
  logs(): string[]
  /** Stops it. Idempotent; never throws. */
  stop(): Promise<void>
}

/** What a provider gets to start one sandbox. */
export interface SandboxStartContext {
  /** `candidate` or `baseline`. */
  name: string
  /** Directory the services' relative `cwd`s resolve against (the working tree, a worktree or a patched copy). */
  root: string
  /** Directory of the config file. */
  configDir: string
  signal: AbortSignal
  /** Hosts besides loopback that traffic may go to. */
  allowHosts: readonly string[]
  /** The config's secrets by name, resolved, for `{{secrets.NAME}}` in a service's command and env. */
  secrets?: Readonly<Record<string, string>>
  /** Redacts the services' log lines as they are stored. @default none */
  redactor?: { text(input: string): string }
  log(line: string): void
  /**
   * The sandbox's dependencies, `{{deps.NAME.url}}` in a service's env: each one's endpoint, settled once
   * it is ready. They start beside the services: a service that references one starts after it is ready,
   * one that references none need not wait; a rejected one fails the start. @default {}
   */
  dependencies?: Readonly<Record<string, Promise<DependencyEndpoint>>>
  /** Records what the provider starts (process groups), so `vigil sandboxes gc` can stop it after a crash. */
  track?: RunTracker
  /**
   * The `file:line:col ` prefix (with its trailing space; empty without a config file) of a key path
   * inside this sandbox's config section, e.g. `['services', 'orders', 'env']`, for error messages.
   */
  where?(keyPath: readonly (string | number)[]): string
}

export interface SandboxProvider<Options = Record<string, unknown>> {
  /** JSON Schema of this provider's options in `vigil.config.yaml`. */
  schema: JsonSchema
  /**
   * Set when the provider cannot have vigil start `dependencies:` beside its services: the sentence the
   * config error gives (a cluster's brokers are services of its manifests). @default dependencies allowed
   */
  dependencies?: { refused: string }
  start(options: Options, ctx: SandboxStartContext): Promise<Sandbox>
}

/** Identity function for type inference, like `defineCheckKind`. */
export function defineSandboxProvider<Options>(provider: SandboxProvider<Options>): SandboxProvider<Options> {
  return provider
}

/** A request path that would leave the sandbox's service (an absolute URL, `@host`, no leading `/`). */
export class OffSandboxPathError extends VigilError {
  constructor(sandbox: string, service: string | undefined, path: string) {
    super(
      'VIGIL_OFF_SANDBOX',
      `${sandbox} sandbox: request path ${JSON.stringify(path.length > 200 ? `${path.slice(0, 199)}…` : path)} does not start with "/"; requests only go to sandbox services (write a path, and pick the service with "service:"${service ? `, here ${service}` : ''})`,
      { exitCode: 2 },
    )
  }
}

/**
 * The URL of `path` on one of a sandbox's services. The path must start with `/` once its variables are
 * rendered: joined to the base URL, anything else could name another host (`@example.com/x`) or port.
 */
export function serviceUrl(
  sandbox: Pick<Sandbox, 'name' | 'url'>,
  service: string | undefined,
  path: string,
): string {
  if (path[0] !== '/') throw new OffSandboxPathError(sandbox.name, service, path)
  return sandbox.url(service) + path
}

/**
 * The request to send for one rendered request to a service of `sandbox`: its URL (a path off the sandbox
 * is refused), the sandbox's headers, then each of `headers` in turn, then the request's own (later wins),
 * and its query and body.
 */
export function sandboxRequest(
  sandbox: Pick<Sandbox, 'name' | 'url' | 'headers'>,
  service: string | undefined,
  request: RequestObject & { method: string },
  headers: ReadonlyArray<Readonly<Record<string, string>> | undefined>,
  signal: AbortSignal,
): HttpRequestSpec {
  return {
    method: request.method,
    url: serviceUrl(sandbox, service, request.path),
    headers: Object.assign({}, sandbox.headers, ...headers, request.headers),
    ...(request.query ? { query: request.query } : {}),
    ...(request.json !== undefined ? { json: request.json } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
    signal,
  }
}
