/**
 * The dependency-kind interface: a sandbox's brokers and databases, declared beside its services
 * (`dependencies: { bus: { kind: nats } }`), one folder each in `engine/dependencies/<kind>/` behind the
 * registry `engine/dependencies/index.ts`. Shaped like a sandbox provider: a schema for its options and a
 * `start()` that returns what it started, for one side; baseline and candidate each start their own.
 */
import type { JsonSchema } from '../../plans/types.js'
import type { RunTracker } from '../processes/run-state.js'
import type { DependencyEndpoint } from '../clients/dependency-endpoint.js'

export type { DependencyEndpoint } from '../clients/dependency-endpoint.js'

/** A dependency once started: its endpoint, its log, and how to stop it. */
export interface RunningDependency {
  endpoint: DependencyEndpoint
  /** Its log lines (a server's output, or what an embedded broker records). */
  logs(): string[]
  /** Stops whatever this start created (process group, data folder, namespace). Idempotent; never throws. */
  stop(): Promise<void>
  /**
   * How the server behind it ended when it ended on its own (`was killed by SIGKILL`); undefined while it
   * runs. @default never asked (one that runs inside vigil, or that vigil did not start)
   */
  died?(): string | undefined
  /**
   * Empties what was written since the start — a database's rows (a fresh branch of the template with this
   * side's migrations as they are now: one made ahead in the background and swapped in, else made again), a broker's queued, streamed and retained messages, a store's keys — so
   * a warm session's next iteration starts from what a fresh start gives, at the same address. A broker's
   * connections are kept; a re-branched database ends its sessions, and services reconnect (a pool does).
   */
  reset(signal: AbortSignal, options?: ResetOptions): Promise<DependencyReset>
  /**
   * The files of the sources it read when it started (a database's migrations folder and seed), relative to
   * them: when one of these changes, what it holds is stale. `[]`: it reads none. @default any file may be
   */
  inputs?: readonly string[]
}

/** How a reset goes about it. */
export interface ResetOptions {
  /**
   * What the reset leaves to do in the background (a database's next branch made ahead, the one swapped out
   * dropped) starts only once this has settled: a warm session passes its iteration's end (after a restart on
   * save, that restart's), since the work would slow the restarted service's start and the checks by competing
   * for the cores. @default starts at once
   */
  backgroundAfter?: Promise<unknown>
}

/** What a reset did. */
export interface DependencyReset {
  /** One sentence for the log: `database vigil_…_candidate re-branched from vigil_…_template`, `2 queues purged`. */
  done: string
  /** The endpoint again when its settings changed (the migrations applied); its address never changes. */
  endpoint?: DependencyEndpoint
}

/** Something several sandboxes of one run share (one RabbitMQ server with a vhost each). */
export interface SharedResource<T> {
  value: T
  /** Stops it once the run is done with it. Never throws. */
  stop(): Promise<void>
}

export interface DependencyStartContext {
  /** `candidate` or `baseline`. */
  sandbox: string
  /** The dependency's name in the config. */
  name: string
  /**
   * The source folders of the run's two builds (the working tree, a worktree of `--base`, a patched copy),
   * for files a dependency reads from the code (a database's migrations); a side the run does not start
   * is the config's folder.
   */
  roots: { candidate: string; baseline: string }
  /** The run's id, for names on shared servers (a prefix, a vhost). */
  runId: string
  signal: AbortSignal
  /** Hosts besides loopback a `url:` may name (the config's `allowHosts`). */
  allowHosts: readonly string[]
  log(line: string): void
  /** Records started process groups and temporary folders for `vigil sandboxes gc`. */
  track?: RunTracker
  /** Redacts log lines as they are stored. */
  redactor?: { text(input: string): string }
  /** The `file:line:col ` prefix of a key path inside this dependency's options. */
  where(keyPath: readonly (string | number)[]): string
  /**
   * A resource shared by every sandbox of the run under `key`, started on first use; the session stops it
   * after every sandbox has stopped.
   */
  shared<T>(key: string, start: () => Promise<SharedResource<T>>): Promise<T>
}

export interface DependencyKind<Options = Record<string, unknown>> {
  meta: {
    description: string
    /** JSON Schema of the options (`kind` included); validated when the config loads. */
    schema: JsonSchema
  }
  start(options: Options, ctx: DependencyStartContext): Promise<RunningDependency>
}

/** Identity function for type inference, like `defineSandboxProvider`. */
export function defineDependency<Options>(kind: DependencyKind<Options>): DependencyKind<Options> {
  return kind
}
