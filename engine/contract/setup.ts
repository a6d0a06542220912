/** `setup:` requests of a contract block, run once per sandbox; their captures are that sandbox's variables. */
import type { CheckContext } from '../checks/types.js'
import { HttpNetworkError, type HttpExchange } from '../http/client.js'
import { serviceUrl } from '../sandboxes/sandbox.js'
import type { Sandbox } from '../sandboxes/types.js'
import type { ContractParams } from './params.js'
import { get as getPointer } from './pointer.js'
import { parseRequest, rendererFor } from './requests.js'
import { describeValue } from './values.js'

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
export async function runSetup(ctx: CheckContext<ContractParams>, sandbox: Sandbox): Promise<SetupOutcome> {
  const captures = new Map<string, unknown>()
  for (const [i, entry] of (ctx.params.setup ?? []).entries()) {
    const render = rendererFor(ctx.vars, captures)
    const parsed = render(parseRequest(entry.request))
    const step = `setup: ${entry.name ?? (typeof entry.request === 'string' ? entry.request : `${parsed.method} ${parsed.path}`)}`
    const fail = (reason: string, exchange?: HttpExchange, extra: Record<string, unknown> = {}) => {
      const evidence = exchange
        ? { ...exchange.recorded(), sandbox: sandbox.name }
        : { sandbox: sandbox.name }
      ctx.report({
        messageId: 'setup-failed',
        data: { step, sandbox: sandbox.name, reason: ctx.http.redactor.text(reason) },
        step,
        evidence: Object.keys(extra).length ? { ...evidence, details: extra } : evidence,
        ...(exchange ? { reproduce: exchange.curl() } : {}),
      })
      return { ok: false as const }
    }
    let exchange: HttpExchange
    try {
      exchange = await ctx.http.request({
        method: parsed.method,
        url: serviceUrl(sandbox, entry.service ?? ctx.params.service, parsed.path),
        headers: {
          ...sandbox.headers,
          ...render(ctx.params.headers ?? {}),
          ...render(entry.headers ?? {}),
          ...parsed.headers,
        },
        ...(parsed.query ? { query: parsed.query } : {}),
        ...(parsed.json !== undefined ? { json: parsed.json } : {}),
        ...(parsed.body !== undefined ? { body: parsed.body } : {}),
        signal: ctx.signal,
      })
    } catch (error) {
      if (!(error instanceof HttpNetworkError)) throw error
      return fail(error.message, undefined, { reproduce: error.curl, index: i })
    }
    if (!statusMatches(exchange.response.status, entry.expect?.status)) {
      return fail(`status ${exchange.response.status}`, exchange)
    }
    for (const [name, source] of Object.entries(entry.capture ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const value = captureValue(exchange, source)
      if (value === undefined) return fail(`capture ${name}: nothing at ${source}`, exchange)
      if (JSON.stringify(value).includes('{{')) {
        return fail(`capture ${name}: value ${describeValue(value)} contains "{{" and is refused`, exchange)
      }
      captures.set(name, value)
    }
  }
  return { ok: true, captures }
}
