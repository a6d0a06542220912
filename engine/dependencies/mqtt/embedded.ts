/**
 * The embedded MQTT broker: aedes, a real MQTT 3.1.1/5 broker written in JavaScript, served inside vigil's
 * process on a free loopback port — what `npm ci` alone brings, so a machine with only Node runs a
 * sandbox with a broker. Each sandbox gets its own instance (its own port, its own in-memory state); its
 * log records connections, subscriptions and publications like a server's output. Stopping it closes the
 * listener and every client connection: nothing outlives the run, not even after a crash (it is in-process).
 */
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { LogBuffer } from '../../sandboxes/log-buffer.js'
import { once } from '../parts.js'
import type { DependencyReset } from '../../api/dependency.js'

export interface EmbeddedBroker {
  host: string
  port: number
  logs(): string[]
  /**
   * Empties the broker as a fresh one would be, straight in its store (no wait for a subscriber to hear the
   * retained messages out, nothing delivered to subscribers): every retained message removed, and the
   * messages queued for persistent sessions (`clean: false`) whose client is not connected dropped (their
   * subscriptions stay, so a service that reconnects still hears what is published next).
   */
  reset(): Promise<DependencyReset>
  stop(): Promise<void>
}

/** A message the broker keeps: retained on a topic, or queued for a client. */
interface Kept {
  topic: string
  messageId?: number
}

/** What of aedes' in-memory store a reset reads and writes (its typings leave the store out). */
interface Store {
  persistence: {
    createRetainedStream(pattern: string): AsyncIterable<Kept>
    storeRetained(packet: { topic: string; payload: Buffer }): Promise<void>
    outgoingStream(client: { id: string }): AsyncIterable<Kept>
    outgoingClearMessageId(client: { id: string }, packet: Kept): Promise<unknown>
  }
  clients: Record<string, unknown>
}

export async function startEmbedded(redactor?: { text(input: string): string }): Promise<EmbeddedBroker> {
  const { Aedes } = await import('aedes')
  const broker = await Aedes.createBroker()
  const logs = new LogBuffer({ capacity: 1000, ...(redactor ? { redactor } : {}) })
  const note = (line: string): void => logs.write('stdout', `${line}\n`)
  // Clients with a persistent session: the broker queues messages for them while they are away.
  const persistent = new Set<string>()
  broker.on('client', (client) => {
    if (!client.clean) persistent.add(client.id)
    note(`client ${client.id} connected`)
  })
  broker.on('clientDisconnect', (client) => note(`client ${client.id} disconnected`))
  broker.on('subscribe', (subs, client) =>
    note(`client ${client.id} subscribed to ${subs.map((s) => s.topic).join(', ')}`),
  )
  broker.on('publish', (packet, client) => {
    if (client) note(`client ${client.id} published ${packet.payload.length} bytes on ${packet.topic}`)
  })
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    broker.handle(socket)
  })
  const host = '127.0.0.1'
  // Port 0: the kernel picks a free port as it binds, so no other process can take it in between.
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: 0, host, exclusive: true }, () => resolve((server.address() as AddressInfo).port))
  })
  note(`aedes listening on ${host}:${port}`)
  return {
    host,
    port,
    logs: () => logs.render(),
    async reset() {
      const { persistence: store, clients } = broker as unknown as Store
      const retained: string[] = []
      for await (const packet of store.createRetainedStream('#')) retained.push(packet.topic)
      // An empty retained message removes the topic's, as a client's would, without delivering anything.
      for (const topic of retained) await store.storeRetained({ topic, payload: Buffer.alloc(0) })
      let queued = 0
      for (const id of [...persistent].sort()) {
        if (clients[id]) continue
        const client = { id }
        const waiting: Kept[] = []
        for await (const packet of store.outgoingStream(client)) waiting.push(packet)
        for (const packet of waiting) await store.outgoingClearMessageId(client, packet)
        queued += waiting.length
      }
      const parts = [
        ...(retained.length ? [`retained messages cleared on ${retained.length} topic(s)`] : []),
        ...(queued ? [`${queued} message(s) queued for disconnected persistent sessions dropped`] : []),
      ]
      return { done: parts.join(', ') || 'no retained or queued message to clear' }
    },
    stop: once(async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      note('aedes stopped')
    }),
  }
}
