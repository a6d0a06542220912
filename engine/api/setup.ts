/**
 * `setup:` requests (the contract and adversarial kinds share them), run once per sandbox; their captures
 * are that sandbox's variables.
 */
import { HttpNetworkError, type HttpExchange } from '../http/client.js'
import { exchangeEvidence, unansweredEvidence, type HttpEvidence } from './evidence.js'
import type { CheckContext, Variables } from './kind.js'
import { sandboxRequest, type Sandbox } from './sandbox.js'
import { get as getPointer } from './pointer.js'
import { describeValue } from './values.js'
import { parseRequestLine, type RequestInput } from './vocabulary.js'

export interface SetupEntry {
  name?: string
  service?: string
  request: RequestInput
  headers?: Record<string, string>
  /** @default 2XX */
  expect?: { status?: number | string | Array<number | string> }
  /** Variable name → JSON pointer into the response body (`/id`), or `status` / `header:NAME`. */
  capture?: Record<string, string>
}

/** The part of a block's parameters that setup requests read. */
export interface SetupParams {
  /** @default the sandbox's default service */
  service?: string
  /** Headers sent with every request of the block. */
  headers?: Record<string, string>
  setup?: SetupEntry[]
}

export type SetupOutcome = { ok: true; captures: Map<string, unknown> } | { ok: false }

function statusMatches(
  status: number,
  expected: number | string | Array<number | string> | undefined,
): boolean {
  const list = expected === undefined ? ['2XX'] : Array.isArray(expected) ? expected : [expected]
  return list.some((e) => {
    const text = String(e).toUpperCase()
    return text === String(status) || (/^[1-5]XX$/.test(text) && text[0] === String(status)[0])
  })
}

function captureValue(exchange: HttpExchange, source: string): unknown {
  if (source === 'status') return exchange.response.status
  if (source.startsWith('header:')) return exchange.response.headers[source.slice(7).toLowerCase()]
  return getPointer(exchange.response.json(), source)
}

/**
 * Runs the setup requests against one sandbox. A failure is reported (`setup-failed`) and the outcome
 * is not ok: the requests that depend on it cannot run there.
 */
export async function runSetup(
  ctx: CheckContext<SetupParams, 'http'>,
  sandbox: Sandbox,
): Promise<SetupOutcome> {
  const captures = new Map<string, unknown>()
  for (const [i, entry] of (ctx.params.setup ?? []).entries()) {
    const render = rendererFor(ctx.vars, captures)
    const parsed = render(parseRequestLine(entry.request))
    const step = `setup: ${entry.name ?? (typeof entry.request === 'string' ? entry.request : `${parsed.method} ${parsed.path}`)}`
    const fail = (reason: string, evidence: HttpEvidence) => {
      ctx.report({
        messageId: 'setup-failed',
        data: { step, sandbox: sandbox.name, reason: ctx.clients.http.redactor.text(reason) },
        step,
        evidence,
      })
      return { ok: false as const }
    }
    let exchange: HttpExchange
    try {
      exchange = await ctx.clients.http.request(
        sandboxRequest(
          sandbox,
          entry.service ?? ctx.params.service,
          parsed,
          [render(ctx.params.headers ?? {}), render(entry.headers ?? {})],
          ctx.signal,
        ),
      )
    } catch (error) {
      if (!(error instanceof HttpNetworkError)) throw error
      return fail(error.message, unansweredEvidence(error, sandbox.name, { index: i }))
    }
    if (!statusMatches(exchange.response.status, entry.expect?.status)) {
      return fail(`status ${exchange.response.status}`, exchangeEvidence(exchange, sandbox.name))
    }
    for (const [name, source] of Object.entries(entry.capture ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const value = captureValue(exchange, source)
      if (value === undefined)
        return fail(`capture ${name}: nothing at ${source}`, exchangeEvidence(exchange, sandbox.name))
      if (JSON.stringify(value).includes('{{')) {
        return fail(
          `capture ${name}: value ${describeValue(value)} contains "{{" and is refused`,
          exchangeEvidence(exchange, sandbox.name),
        )
      }
      captures.set(name, value)
    }
  }
  return { ok: true, captures }
}

/**
 * A renderer for one sandbox: setup captures first (`{{orderId}}` → that sandbox's value), then the
 * run's variables. A captured value containing `{{` is refused: a response must not be able to
 * inject templates (and read secrets) into the next request.
 */
export function rendererFor(vars: Variables, captures: ReadonlyMap<string, unknown>): <T>(value: T) => T {
  if (captures.size === 0) return (value) => vars.render(value)
  const names = [...captures.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')
  const whole = new RegExp(`^\\{\\{\\s*(${names})\\s*\\}\\}$`)
  const anywhere = new RegExp(`\\{\\{\\s*(${names})\\s*\\}\\}`, 'g')
  const substitute = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const m = whole.exec(value)
      if (m) return captures.get(m[1]!)
      return value.replace(anywhere, (_, name: string) => {
        const v = captures.get(name)
        return typeof v === 'string' ? v : JSON.stringify(v)
      })
    }
    if (Array.isArray(value)) return value.map(substitute)
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]))
    return value
  }
  return <T>(value: T) => vars.render(substitute(value) as T)
}
