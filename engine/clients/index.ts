/**
 * Clients, one file each, keyed by the name a kind's `meta.needs` uses; `ctx.clients.<name>` is typed from
 * this object. Adding a transport is a file here and a line below.
 */
import type { ClientContext, ClientFactory, ClientOf } from './client.js'
import broker from './broker.js'
import database from './database.js'
import faults from './faults.js'
import http from './http.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each factory narrows its own client
export const clients = { broker, database, faults, http } satisfies Record<string, ClientFactory<any>>
export type ClientName = keyof typeof clients
/** The client of each name, as a kind sees it. */
export type Clients = { [Name in ClientName]: ClientOf<(typeof clients)[Name]> }

/** A registry of clients: the one above, or one a test builds with more. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each factory narrows its own client
export type ClientRegistry = Readonly<Record<string, ClientFactory<any>>>

/** The clients a run opened, by name. */
export interface OpenClients {
  readonly byName: Readonly<Record<string, unknown>>
  /** Closes every client; never throws. */
  close(): Promise<void>
}

/** Opens the named clients of `registry` (names it does not have are left out: the check that needs one errors). */
export function openClients(
  registry: ClientRegistry,
  names: Iterable<string>,
  ctx: ClientContext,
): OpenClients {
  const opened: Record<string, unknown> = {}
  const factories = registry as Readonly<Record<string, ClientFactory<unknown>>>
  for (const name of new Set(names)) {
    const factory = Object.hasOwn(factories, name) ? factories[name] : undefined
    if (factory) opened[name] = factory.open(ctx)
  }
  return {
    byName: opened,
    close: async () => {
      await Promise.all(
        Object.entries(opened).map(([name, client]) => factories[name]!.close(client).catch(() => undefined)),
      )
    },
  }
}

export { defineClient, type ClientContext, type ClientFactory, type ClientOf } from './client.js'
export { BrokerClient, NotABrokerError, type BrokerMessage, type Capture } from './broker/client.js'
export { DatabaseClient, NotASandboxDatabaseError, type QueryResult } from './database/client.js'
export { OffSandboxTrafficError, SandboxAddresses, endpointOf } from './addresses.js'
