/**
 * `faults`: proxies on a sandbox's dependency edges (engine/clients/faults/). A proxy forwards only to a
 * sandbox address of the run — a service or a dependency — and every proxy is closed with the client.
 */
import { defineClient } from './client.js'
import type { SandboxAddresses } from './addresses.js'
import { startHttpProxy } from './faults/http-proxy.js'
import { startTcpProxy } from './faults/tcp-proxy.js'
import type { FaultProxy } from './faults/types.js'

export { describeFault, type Fault, type FaultProxy, type ProxyCounts } from './faults/types.js'

export class FaultProxies {
  private readonly open = new Set<FaultProxy>()

  constructor(private readonly addresses: SandboxAddresses) {}

  /**
   * A proxy in front of `target`, the URL of a sandbox service (`http://…`: an HTTP proxy) or of a
   * dependency (`postgres://…`, `nats://…`: a TCP proxy).
   * @throws OffSandboxTrafficError when `target` is not a sandbox address of the run
   */
  async start(target: string): Promise<FaultProxy> {
    const url = new URL(target)
    this.addresses.check(url)
    const proxy =
      url.protocol === 'http:'
        ? await startHttpProxy(url.origin)
        : await startTcpProxy({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) })
    this.open.add(proxy)
    const close = proxy.close
    return {
      ...proxy,
      close: async () => {
        this.open.delete(proxy)
        await close()
      },
    }
  }

  /** Closes every proxy still open. Never throws. */
  async close(): Promise<void> {
    await Promise.all([...this.open].map((proxy) => proxy.close().catch(() => undefined)))
    this.open.clear()
  }
}

export default defineClient({
  open: (ctx) => new FaultProxies(ctx.addresses),
  close: (client) => client.close(),
})
