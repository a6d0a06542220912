/** The Sandbox object every provider returns. */
import { ConfigError, VigilError } from '../errors.js'
import type {
  IsolatedService,
  IsolateOptions,
  RestartOptions,
  RestartOutcome,
  Sandbox,
  ServiceEndpoint,
  ServiceFiles,
  ServiceProcessState,
} from '../api/sandbox.js'
import type { ServiceBuild } from '../verdict.js'

export { OffSandboxPathError, serviceUrl } from '../api/sandbox.js'

/** A check named a service the sandbox does not have. */
export class UnknownServiceError extends VigilError {
  constructor(message: string) {
    super('VIGIL_UNKNOWN_SERVICE', message, { exitCode: 2 })
  }
}

export interface SandboxParts {
  name: string
  /** Base URLs by service name (a trailing slash is removed). */
  services: Record<string, string>
  defaultService: string
  headers?: Record<string, string>
  /** What each service ran as, for the verdict's identity. */
  build?: Record<string, ServiceBuild>
  /** The services each service calls directly, when the provider knows them. */
  dependencies?: Record<string, string[]>
  /** Log lines of one service; absent for providers that capture none. */
  logs?(service: string): string[]
  stop?(): Promise<void>
  /** Starts a fresh copy of one service (see Sandbox.isolate); absent when the provider cannot. */
  isolate?(service: string, signal: AbortSignal, options?: IsolateOptions): Promise<IsolatedService>
  /** Starts one service again on its address (see Sandbox.restart); absent when the provider cannot. */
  restart?(service: string, signal: AbortSignal, options?: RestartOptions): Promise<RestartOutcome>
  /** The files each service is built from (see Sandbox.files). */
  files?: Record<string, ServiceFiles>
  /** Each service's process (see Sandbox.processes). */
  processes?(): ServiceProcessState[]
  /** The process id of a service, when it runs as a local process. */
  pid?(service: string): number | undefined
}

export function createSandbox(parts: SandboxParts): Sandbox {
  const names = Object.keys(parts.services).sort()
  const services: Record<string, ServiceEndpoint> = {}
  for (const name of names)
    services[name] = Object.freeze({ name, url: parts.services[name]!.replace(/\/+$/, '') })
  const check = (service: string): string => {
    if (!services[service]) {
      throw new UnknownServiceError(
        `${parts.name} sandbox: unknown service ${JSON.stringify(service)}; it has ${names.join(', ')}`,
      )
    }
    return service
  }
  let stopping: Promise<void> | undefined
  return Object.freeze({
    name: parts.name,
    services: Object.freeze(services),
    defaultService: parts.defaultService,
    ...(parts.dependencies ? { dependencies: Object.freeze({ ...parts.dependencies }) } : {}),
    headers: Object.freeze({ ...(parts.headers ?? {}) }),
    ...(parts.build ? { build: Object.freeze({ ...parts.build }) } : {}),
    url(service?: string): string {
      return services[check(service ?? parts.defaultService)]!.url
    },
    logs(service?: string): string[] {
      if (!parts.logs) return []
      if (service !== undefined) return parts.logs(check(service))
      // All services, each line prefixed with its service, in time order (the ISO stamps sort as text).
      return names
        .flatMap((name) => parts.logs!(name).map((line, i) => ({ name, line, i })))
        .sort(
          (a, b) =>
            a.line.slice(0, 24).localeCompare(b.line.slice(0, 24)) ||
            a.name.localeCompare(b.name) ||
            a.i - b.i,
        )
        .map(({ name, line }) => `${name} | ${line}`)
    },
    stop(): Promise<void> {
      stopping ??= Promise.resolve(parts.stop?.()).catch(() => {})
      return stopping
    },
    ...(parts.isolate
      ? {
          isolate(service: string, signal: AbortSignal, options?: IsolateOptions): Promise<IsolatedService> {
            return parts.isolate!(check(service), signal, options)
          },
        }
      : {}),
    ...(parts.restart
      ? {
          restart(service: string, signal: AbortSignal, options?: RestartOptions): Promise<RestartOutcome> {
            return parts.restart!(check(service), signal, options)
          },
        }
      : {}),
    ...(parts.processes ? { processes: parts.processes } : {}),
    ...(parts.files ? { files: Object.freeze({ ...parts.files }) } : {}),
    ...(parts.pid ? { pid: (service: string) => parts.pid!(check(service)) } : {}),
  })
}

/**
 * The sandbox's default service: the configured `default`, or the only service. Every provider applies
 * the same rule; `where` gives the config location of a key path.
 */
export function chooseDefaultService(
  configured: string | undefined,
  names: readonly string[],
  where: (keyPath: string[]) => string,
): string {
  if (configured === undefined) {
    if (names.length === 1) return names[0]!
    throw new ConfigError(
      `${where(['services'])}sandbox.default: required when there are several services (${names.join(', ')})`,
    )
  }
  if (!names.includes(configured)) {
    throw new ConfigError(
      `${where(['default'])}sandbox.default: unknown service ${JSON.stringify(configured)}; expected one of ${names.join(', ')}`,
    )
  }
  return configured
}
