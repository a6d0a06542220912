/**
 * An MQTT broker's reset: its retained messages cleared the way MQTT defines it — an empty retained message
 * on each topic that holds one — through a client, so it works the same on aedes, mosquitto and a shared
 * broker (there only under the sandbox's prefix). Connections and subscriptions of services stay; MQTT keeps
 * no other messages for connected clients.
 */
import type { DependencyReset } from '../../api/dependency.js'

/** How long the broker may stay silent before every retained message is taken to have arrived. */
const QUIET_MS = 150
/** The most a reset waits for retained messages. */
const MAX_WAIT_MS = 3_000

export async function clearRetained(url: string, prefix: string): Promise<DependencyReset> {
  const { connectAsync } = await import('mqtt')
  const client = await connectAsync(url, {
    clientId: `vigil-reset-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  })
  try {
    const retained = new Set<string>()
    let timer: NodeJS.Timeout | undefined
    const settled = new Promise<void>((resolve) => {
      const quiet = (): void => {
        clearTimeout(timer)
        timer = setTimeout(resolve, QUIET_MS)
      }
      client.on('message', (topic, payload, packet) => {
        if (packet.retain && payload.length > 0) retained.add(topic)
        quiet()
      })
      client.subscribeAsync(`${prefix}#`, { qos: 0 }).then(quiet, () => resolve())
      setTimeout(resolve, MAX_WAIT_MS).unref()
    })
    await settled
    clearTimeout(timer)
    for (const topic of [...retained].sort())
      await client.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true })
    return {
      done: retained.size
        ? `retained messages cleared on ${retained.size} topic(s)`
        : 'no retained message to clear',
    }
  } finally {
    await client.endAsync(true).catch(() => undefined)
  }
}
