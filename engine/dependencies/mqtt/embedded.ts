/**
 * The embedded MQTT broker: aedes, a real MQTT 3.1.1/5 broker written in JavaScript, served inside vigil's
 * process on a free loopback port — what `npm ci` alone brings, so a machine with only Node runs a
 * sandbox with a broker. Each sandbox gets its own instance (its own port, its own in-memory state); its
 * log records connections, subscriptions and publications like a server's output. Stopping it closes the
 * listener and every client connection: nothing outlives the run, not even after a crash (it is in-process).
 */
import { createServer, type Socket } from 'node:net'
import { freePort } from '../../sandboxes/ports.js'
import { LogBuffer } from '../../sandboxes/log-buffer.js'
import { once } from '../parts.js'

export interface EmbeddedBroker {
  host: string
  port: number
  logs(): string[]
  stop(): Promise<void>
}

export async function startEmbedded(redactor?: { text(input: string): string }): Promise<EmbeddedBroker> {
  const { Aedes } = await import('aedes')
  const broker = await Aedes.createBroker()
  const logs = new LogBuffer({ capacity: 1000, ...(redactor ? { redactor } : {}) })
  const note = (line: string): void => logs.write('stdout', `${line}\n`)
  broker.on('client', (client) => note(`client ${client.id} connected`))
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
  const port = await freePort()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port, host, exclusive: true }, () => resolve())
  })
  note(`aedes listening on ${host}:${port}`)
  return {
    host,
    port,
    logs: () => logs.render(),
    stop: once(async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      note('aedes stopped')
    }),
  }
}
