/**
 * Isolated copies for one check (`ctx.isolate`): each service asked for is started afresh by its
 * sandbox's provider, admitted to the run's addresses and sampled by the run's watcher while the check
 * runs, and stopped when it ends.
 */
import type { CopyWatch } from '../../api/executor.js'
import type { IsolatedService, IsolateOptions, Sandbox } from '../../api/sandbox.js'
import type { SandboxAddresses } from '../../clients/addresses.js'
import { VigilError } from '../../errors.js'

/** The sandbox cannot start a copy of a service, or the run gave the check no addresses to admit it to. */
export class IsolationUnsupportedError extends VigilError {
  constructor(message: string) {
    super('VIGIL_ISOLATION', message, { exitCode: 2 })
  }
}

export interface Isolator {
  isolate(sandbox: Sandbox, services: readonly string[], options?: IsolateOptions): Promise<Sandbox>
  /** Stops every copy and withdraws its address. Never throws. */
  release(): Promise<void>
}

/** The check the copies are started for, and the run's watcher that samples them while they live. */
export interface IsolatorWatch {
  copies: CopyWatch
  plan: string
  check: string
}

export function isolator(
  addresses: SandboxAddresses | undefined,
  signal: AbortSignal,
  watch?: IsolatorWatch,
): Isolator {
  const cleanups: Array<() => Promise<void>> = []
  return {
    async isolate(sandbox, services, options) {
      if (!sandbox.isolate)
        throw new IsolationUnsupportedError(
          `the ${sandbox.name} sandbox cannot start a copy of a service (its provider has no isolation; the process provider has): use a reset hook instead`,
        )
      if (!addresses) throw new IsolationUnsupportedError('this run offers no isolation to its checks')
      const copies = new Map<string, IsolatedService>()
      for (const service of [...new Set(services)].sort()) {
        const copy = await sandbox.isolate(service, signal, options)
        const withdraw = addresses.admit(copy.url)
        const unwatch =
          watch && copy.pid !== undefined
            ? watch.copies.watchCopy({
                side: sandbox.name,
                service,
                plan: watch.plan,
                check: watch.check,
                pid: copy.pid,
              })
            : undefined
        cleanups.push(async () => {
          withdraw()
          // Its series ends with a last sample of the copy as it ran, not of its shutdown.
          unwatch?.()
          await copy.stop()
        })
        copies.set(service, copy)
      }
      return view(sandbox, copies, options?.deps)
    },
    async release() {
      await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => undefined)))
    },
  }
}

/**
 * The sandbox as the check sees it: the isolated services at their copies' addresses, and the
 * dependencies they were given instead of the sandbox's (a migrated branch of its database).
 */
function view(
  sandbox: Sandbox,
  copies: ReadonlyMap<string, IsolatedService>,
  deps: IsolateOptions['deps'],
): Sandbox {
  const allDeps = deps ? { ...sandbox.deps, ...deps } : sandbox.deps
  const services = { ...sandbox.services }
  for (const [name, copy] of copies) services[name] = Object.freeze({ name, url: copy.url })
  return Object.freeze({
    name: sandbox.name,
    services: Object.freeze(services),
    defaultService: sandbox.defaultService,
    headers: sandbox.headers,
    ...(sandbox.dependencies ? { dependencies: sandbox.dependencies } : {}),
    ...(allDeps ? { deps: Object.freeze(allDeps) } : {}),
    ...(sandbox.dependencyLogs ? { dependencyLogs: (name: string) => sandbox.dependencyLogs!(name) } : {}),
    pid(service: string): number | undefined {
      const copy = copies.get(service)
      return copy ? copy.pid : sandbox.pid?.(service)
    },
    url(service?: string): string {
      const name = service ?? sandbox.defaultService
      return copies.get(name)?.url ?? sandbox.url(name)
    },
    logs(service?: string): string[] {
      const copy = service !== undefined ? copies.get(service) : undefined
      return copy ? copy.logs() : sandbox.logs(service)
    },
    // The check does not own the sandbox: its copies are stopped by the runner when the check ends.
    stop: async () => undefined,
  })
}
