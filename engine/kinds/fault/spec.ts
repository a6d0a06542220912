/** The fault block read into what the proxy applies, and the lint of what its schema cannot say. */
import type { BlockProblem } from '../../../plans/parse-plan.js'
import { parseDuration } from '../../../plans/duration.js'
import type { Fault } from '../../clients/faults.js'
import type { FaultParams, FaultSpec } from './schema.js'

/** `orders -> payments` → `{ from: 'orders', to: 'payments' }`. */
export function parseEdge(edge: string): { from: string; to: string } {
  const [from, to] = edge.split('->').map((part) => part.trim())
  return { from: from!, to: to! }
}

const KINDS = ['status', 'latency', 'hang', 'reset', 'slowBody'] as const

/** Which of the fault's kinds an object names (exactly one is valid). */
function named(spec: Exclude<FaultSpec, string>): string[] {
  return KINDS.filter((k) => spec[k] !== undefined)
}

/** The proxy's fault for a block's `fault:`; the block passed its lint. */
export function toFault(spec: FaultSpec): Fault {
  if (spec === 'hang' || spec === 'reset') return { type: spec }
  const times = spec.times !== undefined ? { times: spec.times } : {}
  if (spec.status !== undefined) {
    return {
      type: 'status',
      status: spec.status,
      ...(spec.retryAfter !== undefined ? { retryAfter: spec.retryAfter } : {}),
      ...(spec.body !== undefined ? { body: spec.body } : {}),
      ...times,
    }
  }
  if (spec.latency !== undefined) return { type: 'latency', ms: parseDuration(spec.latency), ...times }
  if (spec.slowBody !== undefined) return { type: 'slow-body', bytesPerSecond: spec.slowBody, ...times }
  return { type: spec.hang ? 'hang' : 'reset', ...times }
}

/** True for a fault a TCP proxy can apply (an edge to a database or a broker). */
export function isTcpFault(fault: Fault): boolean {
  return fault.type === 'hang' || fault.type === 'reset' || fault.type === 'latency'
}

export function lintFault(block: Record<string, unknown>): BlockProblem[] {
  const params = block as unknown as FaultParams
  const problems: BlockProblem[] = []
  const { from, to } = parseEdge(params.edge)
  if (from === to)
    problems.push({ pointer: '/edge', message: `edge "${params.edge}": a service calling itself is no edge` })
  const spec = params.fault
  if (typeof spec === 'object') {
    const kinds = named(spec)
    if (kinds.length !== 1) {
      problems.push({
        pointer: '/fault',
        message: `fault: name exactly one of status, latency, hang, reset, slowBody (found ${kinds.length ? kinds.join(', ') : 'none'})`,
      })
    }
    if ((spec.retryAfter !== undefined || spec.body !== undefined) && spec.status === undefined)
      problems.push({ pointer: '/fault', message: 'fault: retryAfter and body go with a status' })
    if (spec.latency !== undefined) {
      try {
        parseDuration(spec.latency)
      } catch (error) {
        problems.push({ pointer: '/fault/latency', message: `fault.latency: ${(error as Error).message}` })
      }
    }
  }
  const { min, max } = params.attempts ?? {}
  if (min !== undefined && max !== undefined && min > max)
    problems.push({ pointer: '/attempts', message: `attempts: min ${min} is above max ${max}` })
  return problems
}
