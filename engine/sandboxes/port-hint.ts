/**
 * A service that ignores the port vigil gives it: it listens on a port of its own choosing (often a
 * hard-coded 3000 or 8080), so the readiness probe never reaches it, or it fails with EADDRINUSE on that
 * port. Starting it again on another port cannot help; the error says what the service must do instead.
 */
import { groupListeners } from '../processes/listeners.js'
import { PORT_TAKEN } from './ports.js'

export interface PortHintInput {
  /** The port the service was given. */
  port: number
  /** The environment variables that carry it (`PORT` and any `env:` entry made of `{{port}}`). */
  variables: readonly string[]
  /** The service's process group, while it runs. */
  pgid?: number
  /** Whether the process is still running. */
  alive: boolean
  /** The last lines of its log. */
  log: readonly string[]
}

/** Lines that say the service listens (PORT_TAKEN: lines that say a port is taken). */
const LISTENING = /\b(?:listen(?:s|ing)?|running|started|serving|bound)\b/i
/** A port in such a line: after a colon (`127.0.0.1:3000`, `[::]:3000`) or the word port. */
const PORT_IN_LINE = /(?::|\bport\b\s*:?\s*)([1-9]\d{1,4})\b/gi

/**
 * Why the service did not answer on its port, when it is because it ignores it: the sentence to add to
 * the start error. Undefined when nothing shows that (a slow or broken service is another problem).
 */
export function ignoredPortHint(input: PortHintInput): string | undefined {
  const elsewhere = listeningElsewhere(input)
  if (elsewhere) return `it listens on ${elsewhere.where}, not on port ${input.port}: ${fixOf(input)}`
  const taken = lastPort(input.log, PORT_TAKEN)
  if (taken !== undefined && taken !== input.port)
    return `it tried to listen on port ${taken}, which was taken, not on port ${input.port}: ${fixOf(input)}`
  const said = lastPort(input.log, LISTENING)
  if (said !== undefined && said !== input.port)
    return `its log says it listens on port ${said}, but nothing answers on port ${input.port}: ${fixOf(input)}`
  return undefined
}

/**
 * While the service starts: the hint only when both its sockets and its log show it listening on another
 * port and not on its own. A service that opens a side port (metrics, a debugger) before its main one
 * is not stopped early by this: its log names the port it serves on only once it does.
 */
export function ignoredPortEarly(input: PortHintInput): string | undefined {
  // The log first: it is read on every probe while the service starts, and the socket tables (a kernel walk
  // over every socket of the machine, thousands after a run's traffic) only matter once the log names a port.
  const said = lastPort(input.log, LISTENING)
  if (said === undefined || said === input.port) return undefined
  const elsewhere = listeningElsewhere(input)
  if (!elsewhere || !elsewhere.ports.includes(said)) return undefined
  return `it listens on ${elsewhere.where}, not on port ${input.port}: ${fixOf(input)}`
}

function fixOf(input: PortHintInput): string {
  return `the service must listen on the port in ${input.variables.map((v) => `$${v}`).join(' or ')} (${input.port})`
}

function listeningElsewhere(input: PortHintInput): { where: string; ports: number[] } | undefined {
  if (!input.alive || input.pgid === undefined) return undefined
  const listeners = groupListeners(input.pgid)
  if (!listeners || listeners.length === 0 || listeners.some((l) => l.port === input.port)) return undefined
  return {
    where: listeners.map((l) => `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`).join(', '),
    ports: listeners.map((l) => l.port),
  }
}

/**
 * The port the last matching line of the log names: after the words that match for a listener (`listening
 * on http://127.0.0.1:3000`), anywhere in the line for a port taken (Go names it before the words).
 */
function lastPort(log: readonly string[], pattern: RegExp): number | undefined {
  for (let i = log.length - 1; i >= 0; i--) {
    const line = log[i]!
    const match = pattern.exec(line)
    if (!match) continue
    const ports = [...(pattern === PORT_TAKEN ? line : line.slice(match.index)).matchAll(PORT_IN_LINE)]
      .map((m) => Number(m[1]))
      .filter((port) => port <= 65535)
    const port = pattern === PORT_TAKEN ? ports.at(-1) : ports[0]
    if (port !== undefined) return port
  }
  return undefined
}
/** `PORT`, then the service's `env:` entries whose value is exactly its own port's placeholder. */
export function portVariables(env: Readonly<Record<string, unknown>> | undefined): string[] {
  const own = Object.entries(env ?? {})
    .filter(([, value]) => /^\s*\{\{\s*port\s*\}\}\s*$/.test(String(value)))
    .map(([key]) => key)
  return ['PORT', ...own.filter((key) => key !== 'PORT')]
}
