/** Loopback ports for services. */
import { createServer } from 'node:net'

/** How often a server whose port another process took first is started again on a new one. */
export const PORT_RETRIES = 2
/** What Node, Python, Go, Java, Ruby, PostgreSQL, Redis, NATS, mosquitto and RabbitMQ print when the port they bind is taken. */
export const PORT_TAKEN = /EADDRINUSE|address already in use/i

// Ports handed out recently by this process: the OS may return a just-closed port again before the
// service that got it has bound it, and two services must never share one.
const recent = new Set<number>()

/** A port that is free on 127.0.0.1 right now (found by listening on port 0). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await listenOnce(0)
    if (!recent.has(port)) {
      recent.add(port)
      if (recent.size > 512) recent.delete(recent.values().next().value!)
      return port
    }
  }
  throw new Error('could not find a free loopback port')
}

/** True when nothing listens on 127.0.0.1:`port`. */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await listenOnce(port)
    return true
  } catch {
    return false
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address()
      const bound = typeof address === 'object' && address ? address.port : port
      server.close(() => resolve(bound))
    })
  })
}
