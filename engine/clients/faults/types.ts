/** The faults a proxy on a dependency edge applies, and what it counts. */
import type { Server } from 'node:net'

/**
 * One fault, applied to every request (HTTP) or connection (TCP) while it is set, or to the first
 * `times` of them:
 * - `status`: answer this HTTP status at once without forwarding (`503`, `429` with `retryAfter`);
 * - `latency`: forward after this many milliseconds (TCP: each chunk, both ways, is held that long);
 * - `hang`: accept and never answer (the request or connection is dropped when the fault is lifted);
 * - `reset`: close the connection abruptly (TCP RST);
 * - `slowBody`: forward, but send the upstream's response body at this many bytes per second.
 */
export type Fault =
  | { type: 'status'; status: number; retryAfter?: number; body?: string; times?: number }
  | { type: 'latency'; ms: number; times?: number }
  | { type: 'hang'; times?: number }
  | { type: 'reset'; times?: number }
  | { type: 'slow-body'; bytesPerSecond: number; times?: number }

/** What a proxy saw, since it started or since `resetCounts()`. */
export interface ProxyCounts {
  /** Requests (HTTP) or connections (TCP) that reached the proxy: the attempts of the service under test. */
  attempts: number
  /** Of them, those the fault was applied to. */
  faulted: number
  /** Of them, those forwarded to the real dependency unchanged (or only delayed). */
  forwarded: number
  /** Upstream failures while forwarding (the real dependency refused or dropped the connection). */
  upstreamErrors: number
}

/** A proxy in front of one sandbox address, which a service is given in place of that address. */
export interface FaultProxy {
  readonly protocol: 'http' | 'tcp'
  /** Where the proxy listens (loopback). */
  readonly host: string
  readonly port: number
  /** The real address it forwards to (`http://127.0.0.1:4001`, `127.0.0.1:5432`). */
  readonly target: string
  /** Applies a fault from now on; `undefined` lifts it (hung requests are then dropped). */
  setFault(fault: Fault | undefined): void
  counts(): ProxyCounts
  resetCounts(): void
  /** Stops listening and drops every open connection. Idempotent; never throws. */
  close(): Promise<void>
}

/** Applies a fault to at most `times` requests: a counter shared by the HTTP and TCP proxies. */
export class FaultSwitch {
  private fault: Fault | undefined
  private applied = 0
  readonly tally: ProxyCounts = { attempts: 0, faulted: 0, forwarded: 0, upstreamErrors: 0 }
  /** Called when the fault is lifted or replaced: hung requests are dropped. */
  private readonly lifted = new Set<() => void>()

  set(fault: Fault | undefined): void {
    this.fault = fault
    this.applied = 0
    for (const drop of [...this.lifted]) drop()
    this.lifted.clear()
  }

  /** Counts one attempt and returns the fault to apply to it, if any. */
  next(): Fault | undefined {
    this.tally.attempts++
    const fault = this.fault
    if (!fault || (fault.times !== undefined && this.applied >= fault.times)) return undefined
    this.applied++
    this.tally.faulted++
    return fault
  }

  /** Runs `drop` when the current fault is lifted; returns a function that forgets it. */
  onLift(drop: () => void): () => void {
    this.lifted.add(drop)
    return () => this.lifted.delete(drop)
  }

  reset(): void {
    Object.assign(this.tally, { attempts: 0, faulted: 0, forwarded: 0, upstreamErrors: 0 })
  }
}

/** Where every fault proxy listens: loopback only. */
export const PROXY_HOST = '127.0.0.1'

/**
 * Starts `server` on a free loopback port and returns the proxy's handle around it: the fault switch
 * sets and counts, `close` lifts the fault, drops every open connection (`sockets`), stops listening and
 * then runs `release` (the HTTP proxy's upstream pool). The HTTP and TCP proxies differ only in `server`.
 */
export async function listenProxy(options: {
  server: Server
  faults: FaultSwitch
  sockets: ReadonlySet<{ destroy(): void }>
  protocol: FaultProxy['protocol']
  target: string
  release?: () => Promise<void>
}): Promise<FaultProxy> {
  const { server, faults, sockets } = options
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, PROXY_HOST, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  let closing: Promise<void> | undefined
  return {
    protocol: options.protocol,
    host: PROXY_HOST,
    port,
    target: options.target,
    setFault: (fault) => faults.set(fault),
    counts: () => ({ ...faults.tally }),
    resetCounts: () => faults.reset(),
    close: () =>
      (closing ??= (async () => {
        faults.set(undefined)
        for (const socket of sockets) socket.destroy()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        await options.release?.().catch(() => undefined)
      })()),
  }
}

/** A readable description of a fault, for messages and evidence. */
export function describeFault(fault: Fault): string {
  const times = fault.times !== undefined ? ` (first ${fault.times})` : ''
  switch (fault.type) {
    case 'status':
      return `HTTP ${fault.status}${fault.retryAfter !== undefined ? ` with Retry-After: ${fault.retryAfter}` : ''}${times}`
    case 'latency':
      return `${fault.ms} ms added latency${times}`
    case 'hang':
      return `no answer${times}`
    case 'reset':
      return `connection reset${times}`
    case 'slow-body':
      return `body at ${fault.bytesPerSecond} bytes/s${times}`
  }
}
