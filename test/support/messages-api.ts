/**
 * A local server speaking the subset of Anthropic's Messages API that vigil uses (`POST /v1/messages`,
 * non-streaming). Tests point the real `@anthropic-ai/sdk` at it with `baseURL: server.url` and a dummy
 * API key, script its replies in order, and assert on the requests it recorded.
 *
 * ```ts
 * const api = await startMessagesApi()
 * api.enqueue(statusReply(429), toolReply({ selected: [] }))
 * const client = new Anthropic({ baseURL: api.url, apiKey: 'test-key' })
 * // ... api.requests[1].body.messages
 * await api.close()
 * ```
 *
 * Retries: the SDK retries 408/409/429/5xx and honours `retry-after-ms` before `retry-after`. A
 * `retry-after: 0` alone makes the SDK fall back to its default backoff (about 0.5 s), so
 * {@link statusReply} sends `retry-after-ms: 1` as well by default to keep tests fast.
 *
 * Hostile shapes: {@link htmlReply} (a 200 proxy page), {@link rawReply} (`{}`, invalid JSON),
 * {@link messageReply} (a message with fields overridden, e.g. `content: null`), `statusReply(429,
 * { retryAfter: 45 })`, any reply with `delayMs`, and a function of the request for answers that depend
 * on what was asked.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** Token counts returned in a reply's `usage`; missing fields are estimated or zero. */
export interface ScriptedUsage {
  input_tokens?: number
  output_tokens?: number
  cache_creation_input_tokens?: number
  cache_read_input_tokens?: number
}

interface ReplyBase {
  /** Wait this long before answering (the SDK's timeout can fire first). @default 0 */
  delayMs?: number
}

/** One scripted answer, consumed in order by the next request; a function answers from the request. */
export type ScriptedReply = FixedReply | ((request: MessagesRequestBody | undefined) => FixedReply)

/** A scripted answer that does not depend on the request. */
export type FixedReply =
  | (ReplyBase & {
      kind: 'tool'
      input: unknown
      /** Tool name; @default the request's forced `tool_choice.name`, else its first tool's name */
      name?: string
      usage?: ScriptedUsage
    })
  | (ReplyBase & { kind: 'text'; text: string; usage?: ScriptedUsage })
  | (ReplyBase & { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown })
  | (ReplyBase & { kind: 'raw'; status?: number; headers?: Record<string, string>; body: string })
  | (ReplyBase & { kind: 'message'; overrides: Record<string, unknown> })

/** A request as the server received it. */
export interface RecordedMessagesRequest {
  method: string
  path: string
  /** Lower-cased header names, as node:http reports them. */
  headers: http.IncomingHttpHeaders
  /** The raw request body. */
  raw: string
  /** The parsed JSON body (undefined when it was not JSON). */
  body: MessagesRequestBody | undefined
  /** When the request arrived, in `performance.now()` milliseconds. */
  receivedAt: number
}

/** The fields of a Messages API request body the tests look at; anything else is kept as-is. */
export interface MessagesRequestBody {
  model?: string
  max_tokens?: number
  temperature?: number
  system?: unknown
  messages?: Array<{ role: string; content: unknown }>
  tools?: Array<{ name: string; description?: string; input_schema?: unknown }>
  tool_choice?: { type: string; name?: string }
  [key: string]: unknown
}

export interface MessagesApiServer {
  /** Base URL for the SDK's `baseURL`, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  readonly url: string
  /** Every request received, in arrival order (including retries). */
  readonly requests: RecordedMessagesRequest[]
  /** Appends replies to the queue. */
  enqueue(...replies: ScriptedReply[]): void
  /** Replies not yet consumed. */
  pending(): number
  /** Stops listening and drops open connections (delayed replies are abandoned). */
  close(): Promise<void>
}

export interface MessagesApiOptions {
  /** Initial reply queue. @default [] */
  replies?: ScriptedReply[]
  /**
   * Answer when the queue is empty. @default a 500 `api_error` with `x-should-retry: false`, so a test
   * that under-scripts fails quickly with a clear message instead of retrying.
   */
  fallback?: ScriptedReply
}

/** A successful reply whose content is one `tool_use` block with `input`. */
export function toolReply(
  input: unknown,
  options: { name?: string; usage?: ScriptedUsage; delayMs?: number } = {},
) {
  return { kind: 'tool', input, ...options } satisfies ScriptedReply
}

/** A successful reply whose content is one text block (a model that ignored the forced tool). */
export function textReply(text: string, options: { usage?: ScriptedUsage; delayMs?: number } = {}) {
  return { kind: 'text', text, ...options } satisfies ScriptedReply
}

const errorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
}

/**
 * An error reply in the API's error shape. Sends `retry-after: 0` and `retry-after-ms: 1` unless
 * overridden; `retryAfter: 45` sends `retry-after: 45` alone, as a rate limiter does.
 */
export function statusReply(
  status: number,
  options: { headers?: Record<string, string>; message?: string; delayMs?: number; retryAfter?: number } = {},
): FixedReply {
  const type = errorTypes[status] ?? 'api_error'
  const retry: Record<string, string> =
    options.retryAfter === undefined
      ? { 'retry-after': '0', 'retry-after-ms': '1' }
      : { 'retry-after': String(options.retryAfter) }
  return {
    kind: 'status',
    status,
    headers: { ...retry, ...options.headers },
    body: { type: 'error', error: { type, message: options.message ?? `scripted ${status}` } },
    ...(options.delayMs === undefined ? {} : { delayMs: options.delayMs }),
  }
}

/** A reply with an arbitrary body, e.g. invalid JSON with status 200. */
export function rawReply(
  body: string,
  options: { status?: number; headers?: Record<string, string>; delayMs?: number } = {},
): FixedReply {
  return { kind: 'raw', body, ...options }
}

/** An HTML page with status 200 (or `status`), as a captive portal or a misrouted proxy sends. */
export function htmlReply(html = '<html><body><h1>Welcome</h1></body></html>', status = 200): FixedReply {
  return { kind: 'raw', status, headers: { 'content-type': 'text/html; charset=utf-8' }, body: html }
}

/**
 * A 200 JSON message whose fields are `overrides` laid over a well-formed tool-use message, e.g.
 * `{ content: null }`, `{ type: 'error' }`, `{ content: [{ type: 'tool_use', name: 'select_plans', input: 'x' }] }`.
 */
export function messageReply(
  overrides: Record<string, unknown>,
  options: { delayMs?: number } = {},
): FixedReply {
  return { kind: 'message', overrides, ...options }
}

/** `n` copies of a reply, for "fail until the SDK gives up" scripts. */
export function times(n: number, reply: ScriptedReply): ScriptedReply[] {
  return Array.from({ length: n }, () => reply)
}

const defaultFallback: FixedReply = {
  kind: 'status',
  status: 500,
  headers: { 'x-should-retry': 'false' },
  body: { type: 'error', error: { type: 'api_error', message: 'messages-api: no scripted reply left' } },
}

/** Starts the server on 127.0.0.1 with a free port. */
export async function startMessagesApi(options: MessagesApiOptions = {}): Promise<MessagesApiServer> {
  const queue: ScriptedReply[] = [...(options.replies ?? [])]
  const requests: RecordedMessagesRequest[] = []
  const timers = new Set<NodeJS.Timeout>()
  let messageCounter = 0

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const path = (req.url ?? '/').split('?')[0] ?? '/'
      const body = parseBody(raw)
      requests.push({
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        raw,
        body,
        receivedAt: performance.now(),
      })
      if (req.method !== 'POST' || path !== '/v1/messages') {
        send(
          res,
          404,
          {},
          JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: path } }),
        )
        return
      }
      const next = queue.shift() ?? options.fallback ?? defaultFallback
      const reply = typeof next === 'function' ? next(body) : next
      const answer = () => respond(res, reply, body, ++messageCounter)
      if (!reply.delayMs) return answer()
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (!res.destroyed) answer()
      }, reply.delayMs)
      timers.add(timer)
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The credential a request carried: `x-api-key`, else the `authorization: Bearer` token (the SDK 1.x form). */
export function apiKeyOf(request: RecordedMessagesRequest): string | undefined {
  const key = request.headers['x-api-key']
  if (typeof key === 'string') return key
  const auth = request.headers.authorization
  return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined
}

function parseBody(raw: string): MessagesRequestBody | undefined {
  try {
    const value: unknown = JSON.parse(raw)
    return value && typeof value === 'object' ? (value as MessagesRequestBody) : undefined
  } catch {
    return undefined
  }
}

function respond(
  res: http.ServerResponse,
  reply: FixedReply,
  request: MessagesRequestBody | undefined,
  n: number,
) {
  const requestId = `req_local_${n}`
  switch (reply.kind) {
    case 'status':
      return send(
        res,
        reply.status,
        { 'request-id': requestId, ...reply.headers },
        JSON.stringify(reply.body ?? {}),
      )
    case 'raw':
      return send(res, reply.status ?? 200, { 'request-id': requestId, ...reply.headers }, reply.body)
    case 'tool': {
      const name = reply.name ?? request?.tool_choice?.name ?? request?.tools?.[0]?.name ?? 'tool'
      const content = [{ type: 'tool_use', id: `toolu_local_${n}`, name, input: reply.input }]
      return send(
        res,
        200,
        { 'request-id': requestId },
        message(n, request, content, 'tool_use', reply.usage),
      )
    }
    case 'message': {
      const content = [{ type: 'tool_use', id: `toolu_local_${n}`, name: 'tool', input: {} }]
      const base = JSON.parse(message(n, request, content, 'tool_use')) as Record<string, unknown>
      return send(res, 200, { 'request-id': requestId }, JSON.stringify({ ...base, ...reply.overrides }))
    }
    case 'text': {
      const content = [{ type: 'text', text: reply.text, citations: null }]
      return send(
        res,
        200,
        { 'request-id': requestId },
        message(n, request, content, 'end_turn', reply.usage),
      )
    }
  }
}

function message(
  n: number,
  request: MessagesRequestBody | undefined,
  content: unknown[],
  stopReason: string,
  usage: ScriptedUsage = {},
): string {
  return JSON.stringify({
    id: `msg_local_${n}`,
    type: 'message',
    role: 'assistant',
    model: request?.model ?? 'local-model',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      // A rough estimate (4 characters a token) so callers that record usage see plausible figures.
      input_tokens: usage.input_tokens ?? Math.ceil(JSON.stringify(request ?? {}).length / 4),
      output_tokens: usage.output_tokens ?? Math.ceil(JSON.stringify(content).length / 4),
      cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
    },
  })
}

function send(res: http.ServerResponse, status: number, headers: Record<string, string>, body: string) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  })
  res.end(body)
}
