/** Readiness probes: poll a service with backoff until it answers, it exits, or the deadline passes. */
import { request } from 'node:http'
import { connect } from 'node:net'
import { listenerOwner } from '../processes/listeners.js'

export interface ReadyProbe {
  /** HTTP path probed with GET; ready on a status in 200–399 (or `status`). */
  http?: string
  /** Ready as soon as the port accepts a TCP connection. */
  tcp?: boolean
  /** Exact status the HTTP probe must return. */
  status?: number
  /** Milliseconds until the service counts as never ready. */
  timeoutMs: number
}

export type ProbeOutcome = { ready: true } | { ready: false; reason: string; stray?: true }

export interface WaitReadyOptions {
  host: string
  port: number
  probe: ReadyProbe
  signal: AbortSignal
  /** Settles when the process exits; stops the wait at once. */
  exited: Promise<unknown>
  /**
   * The service's process group. A probe that succeeds counts only when the port's listener belongs to
   * this group: a port another process took answers the probe while the service fails to bind it.
   * Where the owner cannot be told (no /proc), the probe's answer stands. @default none (not checked)
   */
  pgid?: number
  /**
   * Asked after a failed probe: a reason when the service will never answer on the port (it listens on
   * another one), which ends the wait at once. @default none
   */
  stray?: () => string | undefined
  /**
   * Settles when the process next writes output: a service often says it is listening, so the next probe
   * is sent then rather than after the rest of its delay. @default none (probes on the delay alone)
   */
  spoke?: () => Promise<void>
}

/** Resolves with the outcome: ready, or not (with the last probe's reason, the exit, or the abort). */
export async function waitReady(options: WaitReadyOptions): Promise<ProbeOutcome | { exited: true }> {
  const { probe, signal } = options
  const deadline = Date.now() + probe.timeoutMs
  let exited = false
  void options.exited.then(() => (exited = true))
  let last: ProbeOutcome = { ready: false, reason: 'no probe ran yet' }
  let onAbort = (): void => {}
  const aborted = new Promise<void>((resolve) => (onAbort = resolve))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await poll()
  } finally {
    signal.removeEventListener('abort', onAbort)
  }

  async function poll(): Promise<ProbeOutcome | { exited: true }> {
    // Answers in a row with no listener on the port in the tables when the owner was looked up.
    let listenerless = 0
    // At most 100 ms between probes: a refused connection costs nothing, and a service restarted in a
    // warm session's iteration is waited for by everything after it (a 500 ms cap cost 250 ms on average).
    for (let delay = 25; ; delay = Math.min(Math.round(delay * 1.5), 100)) {
      if (exited) return { exited: true }
      if (signal.aborted) return { ready: false, reason: 'cancelled' }
      const remaining = deadline - Date.now()
      if (remaining <= 0) return last
      const probedAt = Date.now()
      // Output during the probe counts too: "listening" may come while a refused probe is on its way back.
      const spoke = options.spoke?.()
      last = await probeOnce(options, Math.min(2_000, Math.max(50, remaining)))
      if (last.ready) {
        const checked = owned(options, listenerless)
        listenerless = checked.listenerless
        last = checked.outcome
      } else {
        listenerless = 0
        const stray = options.stray?.()
        if (stray) return { ready: false, reason: stray, stray: true }
      }
      // A port answering after our process died is someone else's server.
      if (last.ready) return exited ? { exited: true } : last
      // Sleep, but wake up early for an exit, an abort or the process's output.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise(
          (resolve) => (timer = setTimeout(resolve, Math.min(delay, Math.max(0, deadline - Date.now())))),
        ),
        options.exited,
        aborted,
        ...(spoke ? [spoke] : []),
      ])
      clearTimeout(timer)
      // A service that writes all the time is probed at most every 10 ms.
      const gap = probedAt + 10 - Date.now()
      if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap))
    }
  }
}

/**
 * A probe that succeeded: ready unless the listener is known to be another process's. When no listener
 * is on the port by the time its owner is looked up, whatever answered has gone (a stranger that held
 * the port and left, while this process's exit is not yet seen): not ready until a second answer in a
 * row finds none either (a port forwarded without a listener of this host, where the owner cannot be told).
 */
function owned(
  { host, port, pgid }: WaitReadyOptions,
  listenerless: number,
): { outcome: ProbeOutcome; listenerless: number } {
  if (pgid === undefined) return { outcome: { ready: true }, listenerless: 0 }
  const found = listenerOwner(host, port, pgid)
  if (found.owner === 'none') {
    if (listenerless >= 1) return { outcome: { ready: true }, listenerless: listenerless + 1 }
    const reason = `${host}:${port} answered, but no listener was on the port a moment later`
    return { outcome: { ready: false, reason }, listenerless: listenerless + 1 }
  }
  if (found.owner !== 'other') return { outcome: { ready: true }, listenerless: 0 }
  const who = found.pids.length ? ` (pid ${found.pids.join(', ')})` : ''
  return {
    outcome: { ready: false, reason: `${host}:${port} answers, but its listener is another process's${who}` },
    listenerless: 0,
  }
}

function probeOnce(options: WaitReadyOptions, timeoutMs: number): Promise<ProbeOutcome> {
  return options.probe.http !== undefined ? probeHttp(options, timeoutMs) : probeTcp(options, timeoutMs)
}

async function probeTcp({ host, port }: WaitReadyOptions, timeoutMs: number): Promise<ProbeOutcome> {
  const problem = await connectProblem(host, port, timeoutMs)
  return problem ? { ready: false, reason: `TCP ${host}:${port}: ${problem}` } : { ready: true }
}

/** Why a TCP connection to `host:port` could not be made (`ECONNREFUSED`, `timed out`); undefined once it was. */
export function connectProblem(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (problem: string | undefined): void => {
      socket.destroy()
      resolve(problem)
    }
    socket.setTimeout(timeoutMs, () => done('timed out'))
    socket.once('connect', () => done(undefined))
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message))
  })
}

// node:http rather than the engine's undici client: a probe wants a fresh connection per attempt, no
// pool that outlives the sandbox, and a hard per-attempt timeout.
function probeHttp({ host, port, probe }: WaitReadyOptions, timeoutMs: number): Promise<ProbeOutcome> {
  const path = probe.http!.startsWith('/') ? probe.http! : `/${probe.http}`
  const label = `GET http://${host}:${port}${path}`
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume()
      const status = res.statusCode ?? 0
      const ok = probe.status !== undefined ? status === probe.status : status >= 200 && status < 400
      resolve(ok ? { ready: true } : { ready: false, reason: `${label}: status ${status}` })
    })
    req.once('timeout', () => req.destroy(new Error('timed out')))
    req.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ ready: false, reason: `${label}: ${error.code ?? error.message}` }),
    )
    req.end()
  })
}
