import { randomBytes } from 'node:crypto'
import { Agent, type Dispatcher } from 'undici'
import type { EvidenceWindow, RecordedRequest, RecordedResponse } from '../verdict.js'
import { renderCurl } from './curl.js'
import { ExchangeLog } from './exchange-log.js'
import { Redactor } from './redact.js'

export type QueryValue =
  string | number | boolean | null | undefined | ReadonlyArray<string | number | boolean>

/** One request to send. `url` is absolute; sandboxes give base URLs. */
export interface HttpRequestSpec {
  method: string
  url: string
  headers?: Readonly<Record<string, string>>
  query?: Readonly<Record<string, QueryValue>>
  /** Sent as JSON with `content-type: application/json` unless a content type is given. */
  json?: unknown
  /** Raw body, sent as is. */
  body?: string | Uint8Array
  /** @default the client's timeoutMs */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface HttpResponse {
  status: number
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>
  body: Buffer
  durationMs: number
  /** The body as UTF-8. */
  text(): string
  /** The body parsed as JSON; `undefined` when it is not JSON. Parsed once. */
  json(): unknown
}

/** An exchange as evidence records it: redacted, the body cut to an excerpt. */
export interface RecordedExchange {
  request: RecordedRequest
  response: RecordedResponse
  /** The start of the response body, redacted (absent for an empty body). */
  body?: string
  /** When it was sent and answered, and its request id: to find the services' log lines of it. */
  window: EvidenceWindow
}

/** A request and its response, as recorded for evidence. */
export interface HttpExchange {
  /** The request as sent (unredacted; do not put it in a report, use `recorded()`). */
  spec: HttpRequestSpec
  url: string
  response: HttpResponse
  /** When it was sent and answered (ISO 8601), and the request id it carried. */
  window: EvidenceWindow
  /** Request, response and the body's excerpt, redacted, ready for a finding's evidence. */
  recorded(): RecordedExchange
  /** A redacted curl command that reproduces the request. */
  curl(): string
}

export interface HttpClientOptions {
  redactor?: Redactor
  /** @default 10000 */
  timeoutMs?: number
  /** Bytes of body kept in a recorded response excerpt. @default 2048 */
  excerptBytes?: number
  /** Max bytes of a response body read; larger bodies are cut. @default 16 MiB */
  maxBodyBytes?: number
  /**
   * Checks each destination before anything is sent and throws to refuse it (the client a kind gets
   * refuses every address that is not a sandbox service's). @default every destination
   */
  allow?: (url: URL) => void
  /**
   * A header that correlates a request with the service's log lines (`x-request-id`): a request without it
   * gets a fresh id in it, and the id (or the one the response's header names) is recorded. @default none
   */
  requestIdHeader?: string
}

/** Bytes read past an excerpt's end before redacting it, so that a secret's form across the cut is found whole. */
const EXCERPT_MARGIN_BYTES = 16 * 1024

import { HttpNetworkError } from './network-error.js'

export { HttpNetworkError }

export function buildUrl(url: string, query?: Readonly<Record<string, QueryValue>>): string {
  if (!query) return url
  const u = new URL(url)
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) for (const v of value) u.searchParams.append(key, String(v))
    else u.searchParams.append(key, String(value))
  }
  return u.toString()
}

/** What came back: the final status, the headers as undici parses them, the body read (maybe cut). */
interface Received {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return true
  return false
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

function describeNetworkError(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } }
  const code = e?.code ?? e?.cause?.code
  const message = e?.cause?.message ?? e?.message ?? String(error)
  return code && !message.includes(code) ? `${code}: ${message}` : message
}

/**
 * The one HTTP client of a run: keep-alive pools per origin (undici Agent), request recording,
 * redacted evidence and curl rendering. Evidence is built lazily, so a request costs little more
 * than plain undici.
 */
export class HttpClient {
  readonly redactor: Redactor
  private readonly agent: Agent
  private readonly timeoutMs: number
  private readonly excerptBytes: number
  private readonly maxBodyBytes: number
  private readonly allow: ((url: URL) => void) | undefined
  private readonly requestIdHeader: string | undefined
  /** What this client sent and got lately, for a check that tells its own effects from its neighbours'. */
  readonly log = new ExchangeLog()

  constructor(options: HttpClientOptions = {}) {
    this.redactor = options.redactor ?? new Redactor()
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.excerptBytes = options.excerptBytes ?? 2048
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024
    this.allow = options.allow
    this.requestIdHeader = options.requestIdHeader?.toLowerCase()
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: 256, pipelining: 1 })
  }

  async request(spec: HttpRequestSpec): Promise<HttpExchange> {
    const url = buildUrl(spec.url, spec.query)
    // A refused destination is not a network failure of the service: it is thrown as it is, before sending.
    // An unparsable URL is left to fail in `send`, as a network error, like any unreachable destination.
    let target: URL | string
    try {
      target = new URL(url)
    } catch {
      target = url
    }
    if (this.allow && typeof target !== 'string') this.allow(target)
    const headers: Record<string, string> = { ...spec.headers }
    let body: string | Uint8Array | undefined = spec.body
    if (spec.json !== undefined && body === undefined) {
      body = JSON.stringify(spec.json)
      if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json'
    }
    let sentId: string | undefined
    if (this.requestIdHeader) {
      const own = Object.keys(headers).find((k) => k.toLowerCase() === this.requestIdHeader)
      if (own) sentId = headers[own]
      else headers[this.requestIdHeader] = sentId = `vigil-${randomBytes(8).toString('hex')}`
    }
    const timeout = spec.timeoutMs ?? this.timeoutMs
    const startedAt = Date.now()
    const started = performance.now()
    const window = (requestId: string | undefined): EvidenceWindow => ({
      start: new Date(startedAt).toISOString(),
      end: new Date(Math.max(startedAt, Date.now())).toISOString(),
      ...(requestId ? { requestId: this.redactor.text(requestId) } : {}),
    })
    let received: Received
    const answered = this.log.begin()
    try {
      received = await this.send(target, spec.method.toUpperCase(), headers, body, timeout, spec.signal)
    } catch (error) {
      answered()
      const recorded = this.recordRequest(spec.method, url, headers, body)
      throw new HttpNetworkError(
        this.redactor.text(`${spec.method.toUpperCase()} ${url} failed: ${describeNetworkError(error)}`),
        recorded,
        renderCurl(recorded),
        { cause: error },
        window(sentId),
      )
    }
    const responseHeaders = flattenHeaders(received.headers)
    const response = new BufferedResponse(
      received.status,
      responseHeaders,
      received.body,
      performance.now() - started,
    )
    const echoed = this.requestIdHeader ? responseHeaders[this.requestIdHeader] : undefined
    const exchange = new Exchange(this, spec, url, headers, body, response, window(echoed || sentId))
    answered(exchange)
    return exchange
  }

  /** Records a request that was not (or could not be) sent, e.g. for a finding's evidence. */
  recordRequest(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string | Uint8Array,
  ): RecordedRequest {
    const recorded: RecordedRequest = {
      method: method.toUpperCase(),
      url: this.redactor.text(url),
      headers: this.redactor.headers(headers),
    }
    if (body !== undefined) {
      const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8')
      recorded.body = this.redactor.text(text)
    }
    return recorded
  }

  /** The response's status, headers and time, and the start of its body; redacted. */
  recordResponse(response: HttpResponse): { response: RecordedResponse; body?: string } {
    const recorded: { response: RecordedResponse; body?: string } = {
      response: {
        status: response.status,
        headers: this.redactor.headers(response.headers),
        durationMs: Math.round(response.durationMs * 100) / 100,
      },
    }
    if (response.body.length) {
      // Redacted before it is cut: a secret written across the cut would otherwise leave its first part.
      const window = response.body.subarray(0, this.excerptBytes + EXCERPT_MARGIN_BYTES).toString('utf8')
      const redacted = this.redactor.text(window)
      const bytes = Buffer.from(redacted, 'utf8')
      const excerpt =
        bytes.length > this.excerptBytes ? bytes.subarray(0, this.excerptBytes).toString('utf8') : redacted
      recorded.body =
        excerpt + (response.body.length > this.excerptBytes ? `… (${response.body.length} bytes)` : '')
    }
    return recorded
  }

  /**
   * One request through the agent's dispatch interface, reading the body into chunks as they arrive. It
   * does what undici's `request()` does for us, without its stream and async iteration per response.
   */
  private send(
    destination: URL | string,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Received> {
    const target = typeof destination === 'string' ? new URL(destination) : destination
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return Promise.reject(new Error(`unsupported protocol ${target.protocol} (http: or https: only)`))
    }
    return new Promise((resolve, reject) => {
      const collector = new BodyCollector(this.maxBodyBytes, signal, resolve, reject)
      this.agent.dispatch(
        {
          origin: target.origin,
          path: target.pathname + target.search,
          method: method as Dispatcher.HttpMethod,
          headers,
          body: body ?? null,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        },
        collector,
      )
    })
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined)
  }
}

/** A response read whole: the body in memory, text and JSON decoded on demand (JSON once). */
class BufferedResponse implements HttpResponse {
  private parsed: { value: unknown } | undefined

  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: Buffer,
    readonly durationMs: number,
  ) {}

  text(): string {
    return this.body.toString('utf8')
  }

  json(): unknown {
    if (!this.parsed) {
      try {
        this.parsed = { value: this.body.length ? JSON.parse(this.body.toString('utf8')) : undefined }
      } catch {
        this.parsed = { value: undefined }
      }
    }
    return this.parsed.value
  }
}

/** A request and its response; the redacted evidence and curl line are built only when asked for. */
class Exchange implements HttpExchange {
  constructor(
    private readonly client: HttpClient,
    readonly spec: HttpRequestSpec,
    readonly url: string,
    private readonly headers: Record<string, string>,
    private readonly body: string | Uint8Array | undefined,
    readonly response: HttpResponse,
    readonly window: EvidenceWindow,
  ) {}

  recorded(): RecordedExchange {
    return {
      request: this.recordRequest(),
      ...this.client.recordResponse(this.response),
      window: this.window,
    }
  }

  curl(): string {
    return renderCurl(this.recordRequest())
  }

  private recordRequest(): RecordedRequest {
    return this.client.recordRequest(this.spec.method, this.url, this.headers, this.body)
  }
}

/**
 * The dispatch handler of one request: keeps the final status and headers (1xx informational responses,
 * such as 100 Continue or 103 Early Hints, precede them), collects the body up to `max` bytes, and settles
 * once. A class rather than closures: a request is the hot path of every check kind.
 */
class BodyCollector implements Dispatcher.DispatchHandler {
  private readonly chunks: Buffer[] = []
  private size = 0
  private status = 0
  private headers: Record<string, string | string[] | undefined> = {}
  private controller: Dispatcher.DispatchController | undefined
  private settled = false

  constructor(
    private readonly max: number,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (received: Received) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    signal?.addEventListener('abort', this, { once: true })
  }

  /** The abort signal's listener (an EventListener object, so no closure per request). */
  handleEvent(): void {
    this.controller?.abort(this.signal!.reason ?? new Error('the request was aborted'))
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.signal?.aborted) this.handleEvent()
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return
    this.status = statusCode
    this.headers = headers
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return
    this.size += chunk.length
    if (this.size <= this.max) {
      this.chunks.push(chunk)
      return
    }
    // Too long: keep the first `max` bytes and stop reading.
    this.chunks.push(chunk.subarray(0, chunk.length - (this.size - this.max)))
    this.onResponseEnd()
    controller.abort(new Error(`response body longer than ${this.max} bytes`))
  }

  onResponseEnd(): void {
    if (this.finish()) {
      const { chunks } = this
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, Math.min(this.size, this.max))
      this.resolve({ status: this.status, headers: this.headers, body })
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.finish()) this.reject(error)
  }

  /** true the first time: the request settles once. */
  private finish(): boolean {
    if (this.settled) return false
    this.settled = true
    this.signal?.removeEventListener('abort', this)
    return true
  }
}
