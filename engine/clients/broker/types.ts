/** The broker client's shapes: a captured message, and what each broker's adapter implements. */
import type { DependencyEndpoint } from '../dependency-endpoint.js'

/** One message captured on a channel. */
export interface BrokerMessage {
  /** The channel as the plan names it (a sandbox's prefix removed): subject, stream, routing key or topic. */
  channel: string
  /** The payload parsed as JSON when it is JSON, else its text. */
  payload: unknown
  /** True when `payload` was parsed from JSON. */
  json: boolean
  /** The payload's text (UTF-8). */
  text: string
  /** Headers (NATS headers, AMQP properties and headers, Redis entry fields besides the payload's). */
  headers: Record<string, string>
  /** A broker-side key: the Redis entry id, the AMQP routing key, the MQTT topic, the NATS subject. */
  key: string
  /** Milliseconds from the start of the capture to its arrival. */
  atMs: number
  /** Payload size in bytes. */
  bytes: number
}

/** A message as an adapter hands it over, before timing and parsing. */
export interface RawMessage {
  channel: string
  data: Uint8Array
  headers: Record<string, string>
  key: string
}

/** One connection of an adapter to one broker endpoint. */
export interface BrokerConnection {
  /** Subscribes to a channel (already prefixed); resolves once the broker has the subscription. */
  subscribe(channel: string, onMessage: (message: RawMessage) => void): Promise<() => Promise<void>>
  publish(channel: string, data: Uint8Array, headers: Record<string, string>): Promise<void>
  close(): Promise<void>
}

/** One broker's adapter: how to connect, and the shell commands that do by hand what vigil did. */
export interface BrokerAdapter {
  connect(endpoint: DependencyEndpoint, signal: AbortSignal): Promise<BrokerConnection>
  /** The channel pattern that matches every channel (`>`, `#`), where the broker has one. */
  wildcard?: string
  /** A command that subscribes to `channel` (prefixed) and prints what arrives. */
  subscribeCommand(endpoint: DependencyEndpoint, channel: string): string
  /** A command that publishes `payload` on `channel` (prefixed). */
  publishCommand(endpoint: DependencyEndpoint, channel: string, payload: string): string
}
