/** One side's observation: capture on the side's broker, fire the trigger, wait, collect the messages. */
import { parseDuration } from '../../../plans/duration.js'
import { HttpNetworkError } from '../../http/client.js'
import type { BrokerMessage, Capture } from '../../clients/index.js'
import type { HttpExchange } from '../../http/client.js'
import type { DependencyEndpoint } from '../../api/dependency.js'
import type { CheckContext } from '../../api/kind.js'
import type { Sandbox } from '../../api/sandbox.js'
import { parseRequestLine } from '../../api/vocabulary.js'
import type { EventExpect, EventParams } from './schema.js'
import { attribute, carries, exchangeIdentifiers, payloadIdentifiers, type Revealed } from './attribute.js'

export type EventContext = CheckContext<EventParams, 'http' | 'broker'>

export interface Observation {
  sandbox: Sandbox
  endpoint: DependencyEndpoint
  messages: BrokerMessage[]
  /** `POST /orders → 201`, `publish payments.captured`. */
  trigger: string
  /** Shell lines that do it again: subscribe, then trigger. */
  reproduce: (channel: string) => string
  /** How long the capture lasted, in milliseconds. */
  windowMs: number
  /** Alone: the messages that arrived before the trigger, set aside, and whether the channels then went silent. */
  before?: { messages: number; waitedMs: number; silent: boolean }
}

/** An observation beside other checks that could not tell its trigger's messages from theirs: make it alone. */
export type Unclear = { unclear: string }

export type TriggerFailure = {
  failed: true
  sandbox: Sandbox
  trigger: string
  detail: string
  reproduce: string
}

const DEFAULT_WITHIN = 2_000
/** How long a capture goes on after every count is met, for extra messages. */
const SETTLE_MS = 300
/** Beside other checks: how far before the capture their answered requests may explain a message. */
const LOOKBACK_MS = 2_000
/** Beside other checks: how long their requests in flight when the capture ended are waited for. */
const IN_FLIGHT_WAIT_MS = 2_000
/**
 * Alone: how long the channels must stay silent before the trigger fires. A check that ran just before may have
 * left work behind (a load's last requests are still served after its measurement ends, and publish then);
 * alone every message counts, so those must have arrived, and are set aside, first.
 */
const QUIET_MS = 150
/** Alone: the longest the channels are waited on to go silent; then the trigger fires anyway. */
const QUIET_LIMIT_MS = 3_000

/** The broker of a sandbox the check uses: `broker:`, else its only broker. */
export function brokerOf(ctx: EventContext, sandbox: Sandbox, name: string | undefined): DependencyEndpoint {
  const deps = Object.values(sandbox.deps ?? {})
  if (name !== undefined) {
    const found = sandbox.deps?.[name]
    if (!found) {
      throw new Error(
        `broker "${name}" is not a dependency of the ${sandbox.name} sandbox; it has ${deps.map((d) => d.name).join(', ') || 'none (declare one under sandbox.deps)'}`,
      )
    }
    return found
  }
  const brokers = deps.filter((d) => ctx.clients.broker.speaks(d))
  if (brokers.length === 1) return brokers[0]!
  if (brokers.length === 0)
    throw new Error(
      `the ${sandbox.name} sandbox has no message broker; declare one under sandbox.deps (kind: nats, redis, rabbitmq or mqtt)`,
    )
  throw new Error(
    `the ${sandbox.name} sandbox has several brokers (${brokers.map((d) => d.name).join(', ')}); name one with broker:`,
  )
}

/**
 * True when two sides' brokers cannot carry each other's messages: different servers (each sandbox's own broker,
 * a virtual host or database number of a shared one: the URL differs) or two prefixes of one server, neither
 * under the other. Then the two sides can be observed at the same time.
 */
export function keptApart(a: DependencyEndpoint, b: DependencyEndpoint): boolean {
  if (a.url !== b.url) return true
  return (
    a.prefix !== '' && b.prefix !== '' && !a.prefix.startsWith(b.prefix) && !b.prefix.startsWith(a.prefix)
  )
}

/** True when a channel pattern (`order.*`, `orders/#`, `>`) matches a channel. */
export function channelMatches(pattern: string, channel: string): boolean {
  if (pattern === channel) return true
  const p = pattern.split(/[./]/)
  const c = channel.split(/[./]/)
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>' || p[i] === '#') return true
    if (i >= c.length || (p[i] !== '*' && p[i] !== '+' && p[i] !== c[i])) return false
  }
  return p.length === c.length
}

function withinMs(expect: EventExpect): number {
  return expect.within !== undefined ? parseDuration(expect.within) : DEFAULT_WITHIN
}

/** The least number of messages an expectation waits for before its capture may end early; undefined: wait it out. */
function enough(expect: EventExpect): number | undefined {
  if (expect.count === undefined) return 1
  if (typeof expect.count === 'number') return expect.count === 0 ? undefined : expect.count
  return undefined
}

/**
 * One side's observation. `beside`: other checks run meanwhile, so only the messages that carry an identifier
 * of the trigger's request or answer, and none of another request's to this sandbox, are the trigger's; when a
 * message is neither's, or a count falls short, or the trigger fails, the answer is `Unclear` (make it alone).
 */
export async function observe(
  ctx: EventContext,
  side: 'candidate' | 'baseline',
  params: EventParams,
  beside?: boolean,
): Promise<Observation | TriggerFailure | Unclear> {
  const sandbox = ctx.sandboxes[side]!
  const broker = ctx.clients.broker
  const endpoint = brokerOf(ctx, sandbox, params.broker)
  const wildcard = broker.wildcard(endpoint)
  const channels = wildcard ? [wildcard] : [...new Set(params.expect.map((e) => e.channel))]
  const capture: Capture = await broker.capture(endpoint, channels, ctx.signal)
  // Alone: what arrives before the trigger is an earlier check's, never counted.
  const before = beside ? undefined : await silence(ctx, sandbox, capture)
  const earlier = before?.earlier ?? new Set<BrokerMessage>()
  const begin = performance.now()
  let trigger: string
  let triggerLine: string
  // Beside other checks: what the trigger revealed, and its own exchange (not another check's).
  let mine: (Revealed & { exchange?: HttpExchange }) | undefined
  try {
    if ('publish' in params.trigger) {
      const { channel, json, body, headers = {} } = params.trigger.publish
      const payload = body ?? JSON.stringify(json ?? {})
      trigger = `publish on ${channel}`
      triggerLine = broker.publishCommand(endpoint, channel, payload)
      if (beside)
        mine = {
          ids: payloadIdentifiers(payload),
          at: performance.now(),
          mine: true,
        }
      await broker.publish(endpoint, channel, payload, headers, ctx.signal)
    } else {
      const request = parseRequestLine(params.trigger.request)
      const method = (request.method ?? 'GET').toUpperCase()
      const path = String(request.path)
      if (!path.startsWith('/'))
        throw new Error(`trigger path "${path}" must start with "/" (pick the target with "service")`)
      trigger = `${method} ${path}`
      const service = params.trigger.service ?? sandbox.defaultService
      let exchange
      try {
        exchange = await ctx.clients.http.request({
          method,
          url: sandbox.url(service) + path,
          query: request.query,
          headers: { ...sandbox.headers, ...request.headers, ...params.trigger.headers },
          json: request.json,
          body: request.body,
          timeoutMs: Math.max(1, Math.min(10_000, ctx.timeoutMs)),
          signal: ctx.signal,
        })
      } catch (error) {
        if (ctx.signal.aborted || !(error instanceof HttpNetworkError)) throw error
        await capture.stop()
        if (beside) return { unclear: `the trigger failed beside the other checks (${error.message})` }
        return { failed: true, sandbox, trigger, detail: error.message, reproduce: error.curl }
      }
      triggerLine = exchange.curl()
      trigger = `${trigger} → ${exchange.response.status}`
      if (beside) mine = { ids: exchangeIdentifiers(exchange), at: performance.now(), mine: true, exchange }
      if (exchange.response.status >= 400) {
        await capture.stop()
        if (beside)
          return { unclear: `the trigger answered ${exchange.response.status} beside the other checks` }
        const text = exchange.response.text().slice(0, 200)
        return {
          failed: true,
          sandbox,
          trigger,
          detail: `status ${exchange.response.status}${text ? `: ${text}` : ''}`,
          reproduce: triggerLine,
        }
      }
    }
  } catch (error) {
    await capture.stop()
    throw error
  }
  if (mine && mine.ids.size === 0) {
    await capture.stop()
    return { unclear: `${trigger}: nothing in the trigger identifies its messages among other checks'` }
  }
  const ids = mine?.ids
  const counted = ids ? (m: BrokerMessage) => carries(m, ids) : (m: BrokerMessage) => !earlier.has(m)
  // Beside other checks, a message without the trigger's identifiers while no other request is in flight or was
  // answered by this sandbox cannot become anyone's: no use waiting out `within` for the trigger's.
  const log = ctx.clients.http.log
  const origins = sandboxOrigins(sandbox)
  const hopeless = mine
    ? () =>
        capture.messages.some((m) => !counted(m)) &&
        log.idle() &&
        !log
          .answeredSince(begin - LOOKBACK_MS)
          .some((e) => e.exchange !== mine.exchange && origins.has(originOf(e.exchange.url)))
    : () => false
  await waitOut(ctx, capture, params.expect, begin, counted, hopeless)
  const captured = (await capture.stop()).filter(
    (m) => !earlier.has(m) && !/^(_INBOX|\$JS|\$SYS|\$KV)\b/.test(m.channel),
  )
  const end = performance.now()
  let messages = captured
  if (mine) {
    const sorted = await attributeBeside(ctx, origins, captured, mine, begin, end)
    if ('unclear' in sorted) return sorted
    messages = sorted.mine
    // A count not met beside the other checks is measured alone before it is reported.
    const off = params.expect.find((e) => {
      const got = messages.filter((m) => channelMatches(e.channel, m.channel)).length
      const need = enough(e)
      return typeof e.count === 'number' ? got !== e.count : need !== undefined && got < need
    })
    if (off) return { unclear: `the count on ${off.channel} was not met beside the other checks` }
  }
  const line = triggerLine
  return {
    sandbox,
    endpoint,
    messages,
    trigger,
    windowMs: Math.round(performance.now() - begin),
    ...(before?.earlier.size
      ? { before: { messages: before.earlier.size, waitedMs: before.waitedMs, silent: before.silent } }
      : {}),
    reproduce: (channel) => `${broker.subscribeCommand(endpoint, channel)} &  ${line}`,
  }
}

/**
 * Waits until the capture has had no message for QUIET_MS (at most QUIET_LIMIT_MS): the messages an earlier
 * check's work still published. Returns them, to be set aside, and whether the channels went silent.
 */
async function silence(
  ctx: EventContext,
  sandbox: Sandbox,
  capture: Capture,
): Promise<{ earlier: Set<BrokerMessage>; waitedMs: number; silent: boolean }> {
  const started = performance.now()
  let silent = false
  for (;;) {
    const seen = capture.messages.length
    // Silent means a whole QUIET_MS without a message, within the limit.
    if (QUIET_LIMIT_MS - (performance.now() - started) < QUIET_MS || ctx.signal.aborted) break
    await capture.waitFor(seen + 1, QUIET_MS, ctx.signal)
    if (capture.messages.length === seen) {
      silent = true
      break
    }
  }
  const earlier = new Set(capture.messages)
  const waitedMs = Math.round(performance.now() - started)
  if (earlier.size)
    ctx.progress(
      `${sandbox.name}: ${earlier.size} earlier message(s) set aside; ${silent ? `the channels were silent after ${waitedMs} ms` : `the channels were still not silent after ${waitedMs} ms`}, the trigger fires now`,
    )
  return { earlier, waitedMs, silent }
}

/** Waits until each expectation has its messages (then a short settle), or its `within` has passed. */
async function waitOut(
  ctx: EventContext,
  capture: Capture,
  expects: readonly EventExpect[],
  begin: number,
  counted: (message: BrokerMessage) => boolean,
  hopeless: () => boolean,
): Promise<void> {
  const limit = Math.max(0, ctx.timeoutMs - 500)
  for (;;) {
    const elapsed = performance.now() - begin
    const open = expects.filter((e) => {
      if (elapsed >= Math.min(withinMs(e), limit)) return false
      const need = enough(e)
      return (
        need === undefined ||
        capture.messages.filter((m) => channelMatches(e.channel, m.channel) && counted(m)).length < need
      )
    })
    if (hopeless()) return
    if (open.length === 0 || ctx.signal.aborted) break
    // Woken by the next message, or when the soonest open expectation's time is up.
    const next = Math.min(...open.map((e) => Math.min(withinMs(e), limit))) - elapsed
    // A message that is not the trigger's is looked at again soon: the requests that could explain it end.
    const stray = capture.messages.some((m) => !counted(m))
    await capture.waitFor(capture.messages.length + 1, stray ? Math.min(next, 100) : next, ctx.signal)
  }
  const elapsed = performance.now() - begin
  const settle = Math.min(SETTLE_MS, Math.max(0, Math.max(...expects.map(withinMs)) - elapsed))
  if (settle > 0 && !ctx.signal.aborted) await new Promise((resolve) => setTimeout(resolve, settle))
}

/**
 * The trigger's messages among those captured beside other checks: their requests to this sandbox (`origins`) answered
 * since shortly before the capture (and those in flight when it ended, once answered) explain theirs.
 */
async function attributeBeside(
  ctx: EventContext,
  origins: ReadonlySet<string>,
  captured: readonly BrokerMessage[],
  trigger: Revealed & { exchange?: HttpExchange },
  begin: number,
  end: number,
): Promise<{ mine: BrokerMessage[] } | Unclear> {
  const log = ctx.clients.http.log
  if (!(await log.settled(end, IN_FLIGHT_WAIT_MS, ctx.signal)))
    return { unclear: 'requests of other checks were still unanswered after the capture' }
  const since = begin - LOOKBACK_MS
  if (!log.covers(since)) return { unclear: 'other checks sent more requests than are kept meanwhile' }
  const revealed: Revealed[] = [trigger]
  for (const { exchange, answeredAt } of log.answeredSince(since)) {
    if (exchange === trigger.exchange || !origins.has(originOf(exchange.url))) continue
    revealed.push({ ids: exchangeIdentifiers(exchange), at: answeredAt, mine: false })
  }
  const sorted = attribute(captured, revealed)
  if (sorted.unknown.length)
    return {
      unclear: `${sorted.unknown.length} message(s) on ${[...new Set(sorted.unknown.map((m) => m.channel))].join(', ')} carried no identifier that the trigger or another check's request revealed first`,
    }
  return sorted
}

function sandboxOrigins(sandbox: Sandbox): Set<string> {
  return new Set(Object.values(sandbox.services).map((s) => originOf(s.url)))
}

function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return ''
  }
}
