/**
 * Which captured messages a trigger caused, when the observation ran beside other checks. A message is the
 * trigger's when it carries an identifier the trigger revealed first (a value of its request or answer: an
 * order id, a timestamp to the millisecond), another check's when it carries one another request to the same
 * sandbox revealed first, and unknown otherwise: neither, or both. One unknown message and the observation is made
 * again, alone — a message that lost its identifier, or one no request of vigil's explains, is never guessed.
 */
import type { BrokerMessage } from '../../clients/index.js'
import type { HttpExchange } from '../../http/client.js'

/** Shorter strings, and strings without a digit (words, enum values, SKUs), identify nothing. */
const MIN_LENGTH = 8
/** Values looked at per document: a large answer is not walked whole. */
const MAX_VALUES = 2_000

/** The identifiers of a value (a parsed JSON document): its distinctive strings, at any depth. */
export function identifiersOf(value: unknown, into = new Set<string>()): Set<string> {
  let seen = 0
  const walk = (v: unknown): void => {
    if (++seen > MAX_VALUES) return
    if (typeof v === 'string') {
      if (v.length >= MIN_LENGTH && /\d/.test(v)) into.add(v)
    } else if (Array.isArray(v)) v.forEach(walk)
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk)
  }
  walk(value)
  return into
}

/** The identifiers of an exchange: those of its JSON request and answer, and of the answer's Location. */
export function exchangeIdentifiers(exchange: HttpExchange): Set<string> {
  const ids = new Set<string>()
  if (exchange.spec.json !== undefined) identifiersOf(exchange.spec.json, ids)
  else if (typeof exchange.spec.body === 'string') identifiersOf(parsed(exchange.spec.body), ids)
  const { response } = exchange
  if (response.body.length) identifiersOf(parsed(response.text()), ids)
  const location = response.headers.location
  if (location) identifiersOf([location, location.split('/').pop()], ids)
  return ids
}

/** The identifiers of a published payload: its JSON's, or the text itself when it is not JSON. */
export function payloadIdentifiers(payload: string): Set<string> {
  const value = parsed(payload)
  return identifiersOf(value === undefined ? payload : value)
}

export interface Attribution {
  /** The trigger's messages, in arrival order. */
  mine: BrokerMessage[]
  /** How many messages other checks' requests explain. */
  others: number
  /** Messages neither explains, or both. */
  unknown: BrokerMessage[]
}

/** Identifiers one request revealed (`mine`: the trigger), and when (`performance.now()` of its answer). */
export interface Revealed {
  ids: ReadonlySet<string>
  at: number
  mine: boolean
}

/**
 * Sorts `messages` by who revealed each identifier they carry first: an order id is new in the answer of the
 * request that created it, and only seen again in later reads (another check listing the trigger's order does
 * not make its message theirs). An identifier two requests revealed at the same moment tells nothing.
 *
 * A message carrying identifiers both sides revealed first is the one request's whose exchange holds every
 * revealed identifier the message carries, and revealed one of them first: two orders created in the same
 * millisecond share their `createdAt`, which the one answered first claims, yet each order's message is told
 * by its id. When no such request is one side's alone, the message is unknown.
 */
export function attribute(messages: readonly BrokerMessage[], revealed: readonly Revealed[]): Attribution {
  // Each identifier's first revealer (an index into `revealed`), or null when two revealed it at once.
  const first = new Map<string, { at: number; by: number | null }>()
  revealed.forEach(({ ids, at }, by) => {
    for (const id of ids) {
      const known = first.get(id)
      if (!known || at < known.at) first.set(id, { at, by })
      else if (at === known.at && known.by !== null && revealed[known.by]!.mine !== revealed[by]!.mine)
        known.by = null
    }
  })
  const own = new Set<string>()
  const foreign = new Set<string>()
  for (const [id, { by }] of first) {
    if (by === null) continue
    if (revealed[by]!.mine) own.add(id)
    else foreign.add(id)
  }
  const out: Attribution = { mine: [], others: 0, unknown: [] }
  for (const message of messages) {
    const isMine = carries(message, own)
    const isOthers = carries(message, foreign)
    const side =
      isMine && isOthers ? holder(message, revealed, first) : isMine || (isOthers ? false : undefined)
    if (side === true) out.mine.push(message)
    else if (side === false) out.others++
    else out.unknown.push(message)
  }
  return out
}

/**
 * For a message carrying identifiers both sides revealed first: whether the requests that hold every revealed
 * identifier it carries, and revealed one of them first, are the trigger (true) or other checks' (false);
 * undefined when there are none, or of both sides.
 */
function holder(
  message: BrokerMessage,
  revealed: readonly Revealed[],
  first: ReadonlyMap<string, { by: number | null }>,
): boolean | undefined {
  const carried = [...first.keys()].filter((id) => carries(message, [id]))
  const sides = new Set<boolean>()
  revealed.forEach((r, i) => {
    if (carried.every((id) => r.ids.has(id)) && carried.some((id) => first.get(id)!.by === i))
      sides.add(r.mine)
  })
  return sides.size === 1 ? [...sides][0] : undefined
}

/** True when the message carries one of `ids`, in its payload or a header. */
export function carries(message: BrokerMessage, ids: Iterable<string>): boolean {
  const headers = Object.values(message.headers)
  for (const id of ids) if (message.text.includes(id) || headers.some((h) => h.includes(id))) return true
  return false
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
