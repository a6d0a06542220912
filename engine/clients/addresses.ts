/**
 * Where traffic may go: the service addresses of the run's sandboxes, nothing else. Every client vigil
 * gives a kind checks its destination here before it sends, so a request built from plan input (a
 * rendered variable, a generated case) can never reach a host or port that is not a sandbox service.
 * An address is a host and a port: the scheme does not change where the bytes go (a TCP client may talk
 * to the port of a service a sandbox announces as `http://…`), but it gives the port when none is written.
 */
import { VigilError } from '../errors.js'

/** A destination that is not a sandbox service. */
export class OffSandboxTrafficError extends VigilError {
  constructor(destination: string, allowed: readonly string[]) {
    super(
      'VIGIL_OFF_SANDBOX',
      `${destination} is not a sandbox address; vigil sends traffic only to the sandboxes' services (${allowed.join(', ') || 'none'})`,
      { exitCode: 2 },
    )
  }
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  'http:': '80',
  'https:': '443',
  'ws:': '80',
  'wss:': '443',
  'nats:': '4222',
  'redis:': '6379',
  'amqp:': '5672',
  'mqtt:': '1883',
}

/** `127.0.0.1:4001`, `[::1]:6379`: lower-case host and port (the scheme's default when none is written). */
export function endpointOf(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || DEFAULT_PORTS[url.protocol] || ''}`
}

export class SandboxAddresses {
  private readonly endpoints: ReadonlySet<string>
  /** Services started for one check while it runs (an isolated copy), counted: one endpoint, one copy. */
  private readonly admitted = new Map<string, number>()

  /** @param serviceUrls the base URLs of every service of every sandbox of the run */
  constructor(serviceUrls: Iterable<string>) {
    const endpoints = new Set<string>()
    for (const url of serviceUrls) endpoints.add(endpointOf(new URL(url)))
    this.endpoints = endpoints
  }

  /**
   * Lets traffic go to a sandbox service started after the run began (a check's isolated copy) until the
   * returned function is called.
   */
  admit(url: string): () => void {
    const endpoint = endpointOf(new URL(url))
    this.admitted.set(endpoint, (this.admitted.get(endpoint) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const n = (this.admitted.get(endpoint) ?? 1) - 1
      if (n > 0) this.admitted.set(endpoint, n)
      else this.admitted.delete(endpoint)
    }
  }

  /** The addresses of these sandboxes' services and dependencies (candidate and, when present, baseline). */
  static of(
    sandboxes: Iterable<
      | {
          services: Readonly<Record<string, { url: string }>>
          deps?: Readonly<Record<string, { url: string }>>
        }
      | undefined
    >,
  ): SandboxAddresses {
    const urls: string[] = []
    for (const sandbox of sandboxes) {
      for (const endpoint of Object.values(sandbox?.services ?? {})) urls.push(endpoint.url)
      for (const endpoint of Object.values(sandbox?.deps ?? {})) urls.push(endpoint.url)
    }
    return new SandboxAddresses(urls)
  }

  allows(url: URL): boolean {
    const endpoint = endpointOf(url)
    return this.endpoints.has(endpoint) || this.admitted.has(endpoint)
  }

  /** @throws OffSandboxTrafficError when `url` is not a sandbox service's address */
  check(url: URL): void {
    if (!this.allows(url))
      throw new OffSandboxTrafficError(endpointOf(url), [...this.endpoints, ...this.admitted.keys()].sort())
  }
}
