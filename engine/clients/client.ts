/**
 * The client interface: a connection to the sandboxes over one transport (HTTP today; a broker tap, a
 * database, a fault proxy, a process sampler next), opened once per run and handed to the kinds that
 * ask for it by name in `meta.needs`. Registry: engine/clients/index.ts.
 */
import type { Redactor } from '../http/redact.js'
import type { SandboxAddresses } from './addresses.js'

/** What a client is opened with. */
export interface ClientContext {
  /** Redacts secrets from whatever the client records for evidence. */
  redactor: Redactor
  /** The sandboxes' service addresses: a client sends nothing anywhere else (`addresses.check(url)`). */
  addresses: SandboxAddresses
  /** A header that correlates requests with the services' log lines (the config's `logs.requestId`). */
  requestIdHeader?: string
}

export interface ClientFactory<Client> {
  /** Opens the client for one run. */
  open(ctx: ClientContext): Client
  /** Releases what `open` took (pools, sockets, subscriptions). Never throws. */
  close(client: Client): Promise<void>
}

/** Identity function for type inference, like `defineCheckKind`. */
export function defineClient<Client>(factory: ClientFactory<Client>): ClientFactory<Client> {
  return factory
}

/** The client type a factory opens. */
export type ClientOf<Factory> = Factory extends ClientFactory<infer Client> ? Client : never
