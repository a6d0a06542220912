/**
 * Where traffic may go: the service addresses of the run's sandboxes, nothing else. Every client vigil
 * gives a kind checks its destination here before it sends, so a request built from plan input (a
 * rendered variable, a generated case) can never reach a host or port that is not a sandbox service.
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

/** `http://127.0.0.1:4001`, `tcp://127.0.0.1:6379`: scheme and host with its port, as the URL spells them. */
function originOf(url: URL): string {
  return `${url.protocol}//${url.host.toLowerCase()}`
}

export class SandboxAddresses {
  private readonly origins: ReadonlySet<string>

  /** @param serviceUrls the base URLs of every service of every sandbox of the run */
  constructor(serviceUrls: Iterable<string>) {
    const origins = new Set<string>()
    for (const url of serviceUrls) origins.add(originOf(new URL(url)))
    this.origins = origins
  }

  /** The addresses of these sandboxes' services (candidate and, when present, baseline). */
  static of(sandboxes: Iterable<{ services: Readonly<Record<string, { url: string }>> } | undefined>) {
    const urls: string[] = []
    for (const sandbox of sandboxes)
      for (const endpoint of Object.values(sandbox?.services ?? {})) urls.push(endpoint.url)
    return new SandboxAddresses(urls)
  }

  allows(url: URL): boolean {
    return this.origins.has(originOf(url))
  }

  /** @throws OffSandboxTrafficError when `url` is not a sandbox service's address */
  check(url: URL): void {
    if (!this.allows(url)) throw new OffSandboxTrafficError(originOf(url), [...this.origins].sort())
  }
}
