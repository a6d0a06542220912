/**
 * The broker client kinds ask for with `needs: ['broker']`: capture messages on channels of a sandbox's
 * broker (from before a trigger until a deadline, with timing, headers and keys, payloads parsed as JSON
 * when they are) and publish to it. One adapter per broker behind one interface; each connection is to a
 * dependency of one of the run's sandboxes only — any other address is refused, like the HTTP client's —
 * and every channel lives under the sandbox's prefix on a shared server, so a plan cannot reach outside it.
 */
import type { DependencyEndpoint } from '../dependency-endpoint.js'
import type { ClientContext } from '../client.js'
import { VigilError } from '../../errors.js'
import type { BrokerAdapter, BrokerConnection, BrokerMessage, RawMessage } from './types.js'
import { mqtt } from './mqtt.js'
import { nats } from './nats.js'
import { rabbitmq } from './rabbitmq.js'
import { redis } from './redis.js'

export type { BrokerMessage } from './types.js'

/** The adapters, keyed by the dependency kind they speak to. */
export const brokerAdapters: Readonly<Record<string, BrokerAdapter>> = { mqtt, nats, rabbitmq, redis }

/** A dependency the broker client cannot speak to (a database, an unknown kind). */
export class NotABrokerError extends VigilError {
  constructor(endpoint: DependencyEndpoint) {
    super(
      'VIGIL_NOT_A_BROKER',
      `dependency ${endpoint.name} is a ${endpoint.kind}, not a message broker; the broker client speaks ${Object.keys(brokerAdapters).join(', ')}`,
      { exitCode: 2 },
    )
  }
}

/** A capture in progress: its messages so far, and `stop()` for the final list. */
export interface Capture {
  readonly messages: readonly BrokerMessage[]
  /** Resolves once `count` messages arrived on `channel` (or on any, without one), or at the deadline. */
  waitFor(count: number, deadlineMs: number, signal: AbortSignal, channel?: string): Promise<void>
  stop(): Promise<BrokerMessage[]>
}

export class BrokerClient {
  private readonly connections = new Map<string, Promise<BrokerConnection>>()

  constructor(private readonly ctx: ClientContext) {}

  private adapter(endpoint: DependencyEndpoint): BrokerAdapter {
    const adapter = Object.hasOwn(brokerAdapters, endpoint.kind) ? brokerAdapters[endpoint.kind] : undefined
    if (!adapter) throw new NotABrokerError(endpoint)
    return adapter
  }

  private connection(endpoint: DependencyEndpoint, signal: AbortSignal): Promise<BrokerConnection> {
    this.ctx.addresses.check(new URL(endpoint.url))
    const adapter = this.adapter(endpoint)
    let conn = this.connections.get(endpoint.url)
    if (!conn) {
      conn = adapter.connect(endpoint, signal)
      conn.catch(() => this.connections.delete(endpoint.url))
      this.connections.set(endpoint.url, conn)
    }
    return conn
  }

  /**
   * Opens the connection to the endpoint's broker now (loading its client library), so a later capture or
   * publish only subscribes or sends. Connections are kept for the client's life, one per broker URL.
   */
  async connect(endpoint: DependencyEndpoint, signal: AbortSignal): Promise<void> {
    await this.connection(endpoint, signal)
  }

  /** Starts capturing on `channels` (subscriptions in place when this resolves). */
  async capture(
    endpoint: DependencyEndpoint,
    channels: readonly string[],
    signal: AbortSignal,
  ): Promise<Capture> {
    const conn = await this.connection(endpoint, signal)
    const started = performance.now()
    const messages: BrokerMessage[] = []
    const waiters = new Set<() => void>()
    const prefix = endpoint.prefix
    const onMessage = (raw: RawMessage): void => {
      messages.push(toMessage(raw, prefix, performance.now() - started))
      for (const wake of waiters) wake()
    }
    const unsubscribes = await Promise.all(
      [...new Set(channels)].map((c) => conn.subscribe(prefix + c, onMessage)),
    )
    let stopped: Promise<BrokerMessage[]> | undefined
    return {
      messages,
      waitFor(count, deadlineMs, waitSignal, channel) {
        const enough = () =>
          (channel === undefined ? messages.length : messages.filter((m) => m.channel === channel).length) >=
          count
        if (enough()) return Promise.resolve()
        return new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer)
            waiters.delete(check)
            waitSignal.removeEventListener('abort', done)
            resolve()
          }
          const check = (): void => {
            if (enough()) done()
          }
          const timer = setTimeout(done, Math.max(0, deadlineMs))
          waiters.add(check)
          waitSignal.addEventListener('abort', done, { once: true })
        })
      },
      stop: () =>
        (stopped ??= (async () => {
          await Promise.all(unsubscribes.map((u) => u().catch(() => undefined)))
          return [...messages]
        })()),
    }
  }

  /** Publishes one message on `channel` of the endpoint (under the sandbox's prefix). */
  async publish(
    endpoint: DependencyEndpoint,
    channel: string,
    payload: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<void> {
    const conn = await this.connection(endpoint, signal)
    await conn.publish(endpoint.prefix + channel, Buffer.from(payload), headers)
  }

  /** The pattern that captures every channel of the endpoint's broker (under its prefix), when it has one. */
  /** True when the client speaks to this dependency (a broker, not a database). */
  speaks(endpoint: DependencyEndpoint): boolean {
    return Object.hasOwn(brokerAdapters, endpoint.kind)
  }

  wildcard(endpoint: DependencyEndpoint): string | undefined {
    return this.adapter(endpoint).wildcard
  }

  /** Shell commands that do by hand what a capture or a publish did (secrets redacted). */
  subscribeCommand(endpoint: DependencyEndpoint, channel: string): string {
    return this.ctx.redactor.text(
      this.adapter(endpoint).subscribeCommand(endpoint, endpoint.prefix + channel),
    )
  }

  publishCommand(endpoint: DependencyEndpoint, channel: string, payload: string): string {
    return this.ctx.redactor.text(
      this.adapter(endpoint).publishCommand(endpoint, endpoint.prefix + channel, payload),
    )
  }

  async close(): Promise<void> {
    const all = [...this.connections.values()]
    this.connections.clear()
    await Promise.allSettled(all.map(async (c) => (await c).close()))
  }
}

function toMessage(raw: RawMessage, prefix: string, atMs: number): BrokerMessage {
  const text = Buffer.from(raw.data).toString('utf8')
  let payload: unknown = text
  let json = false
  try {
    payload = JSON.parse(text)
    json = true
  } catch {
    // Not JSON: the text is the payload.
  }
  const channel = prefix && raw.channel.startsWith(prefix) ? raw.channel.slice(prefix.length) : raw.channel
  return {
    channel,
    payload,
    json,
    text,
    headers: raw.headers,
    key: prefix && raw.key.startsWith(prefix) ? raw.key.slice(prefix.length) : raw.key,
    atMs: Math.round(atMs),
    bytes: raw.data.byteLength,
  }
}
