/**
 * A TCP proxy in front of one sandbox dependency (a database, a broker), applying faults to connections:
 * a reset, no answer, added latency. It connects only to the one address it was made for, which the
 * caller checked against the run's sandbox addresses.
 */
import net from 'node:net'
import { FaultSwitch, listenProxy, type FaultProxy } from './types.js'

/** Starts a TCP fault proxy forwarding to `host:port`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const faults = new FaultSwitch()
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket): net.Socket => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    // An error on one side only ends that connection pair.
    socket.on('error', () => socket.destroy())
    return socket
  }
  const server = net.createServer((client) => {
    track(client)
    const fault = faults.next()
    if (fault?.type === 'reset') {
      client.resetAndDestroy()
      return
    }
    if (fault?.type === 'hang') {
      // Accepted, read and never answered; dropped when the fault is lifted.
      client.resume()
      const forget = faults.onLift(() => client.destroy())
      client.once('close', forget)
      return
    }
    const delay = fault?.type === 'latency' ? fault.ms : 0
    const upstream = track(net.connect(target.port, target.host))
    upstream.once('connect', () => {
      if (delay === 0) faults.tally.forwarded++
    })
    upstream.once('error', () => {
      faults.tally.upstreamErrors++
      client.destroy()
    })
    upstream.once('close', () => client.destroy())
    client.once('close', () => upstream.destroy())
    if (delay === 0) {
      client.pipe(upstream)
      upstream.pipe(client)
      return
    }
    faults.tally.forwarded++
    const relay = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk: Buffer) => {
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk)
        }, delay)
      })
    }
    relay(client, upstream)
    relay(upstream, client)
  })
  return listenProxy({
    server,
    faults,
    sockets,
    protocol: 'tcp',
    target: `${target.host}:${target.port}`,
  })
}
