/**
 * Evidence as kinds write it. Reporters show only the common fields (the summary lines, the excerpt, the
 * reproduce line), so whatever a kind wants a person to see goes there; these helpers write them for
 * HTTP, and `evidence()` for any other transport. The engine redacts every field before a reporter sees it.
 */
import { formatElapsed } from '../../plans/duration.js'
import type { HttpExchange, HttpNetworkError, RecordedExchange } from '../http/client.js'
import type {
  EvidenceBase,
  EvidenceExcerpt,
  EvidenceLine,
  EvidenceWindow,
  HttpEvidence,
  RecordedRequest,
  RecordedResponse,
} from '../verdict.js'

export type {
  Evidence,
  EvidenceBase,
  EvidenceExcerpt,
  EvidenceLine,
  EvidenceLogs,
  EvidenceWindow,
  HttpEvidence,
  OtherEvidence,
  ProcessEvidence,
} from '../verdict.js'

/** Evidence of any transport: the kind writes its lines; empty parts are left out. */
export function evidence<Transport extends string>(
  input: Omit<EvidenceBase<Transport>, 'summary'> & { summary?: EvidenceLine[] },
): EvidenceBase<Transport> {
  const out: EvidenceBase<Transport> = { transport: input.transport, summary: input.summary ?? [] }
  if (input.sandbox !== undefined) out.sandbox = input.sandbox
  if (out.summary.length === 0 && input.sandbox !== undefined)
    out.summary.push({ label: 'sandbox', value: input.sandbox })
  if (input.excerpt?.text) out.excerpt = input.excerpt
  if (input.reproduce !== undefined) out.reproduce = input.reproduce
  if (input.details !== undefined) out.details = input.details
  if (input.window !== undefined) out.window = input.window
  return out
}

export interface HttpEvidenceInput {
  /** Which sandbox sent the request or answered. */
  sandbox?: string
  request?: RecordedRequest
  response?: RecordedResponse
  /** The start of the response body, redacted (`RecordedExchange.body`). */
  body?: string
  /** A curl line (or a pipeline into curl) that sends the same request. */
  reproduce?: string
  details?: Record<string, unknown>
  /** When it was sent and answered (`RecordedExchange.window`), so the engine can attach the services' log lines. */
  window?: EvidenceWindow
  /** Lines after the request and response ones. */
  more?: EvidenceLine[]
}

/**
 * HTTP evidence: `request: POST http://… (candidate)` (or `sandbox: candidate` without a request) and
 * `response: 201 in 12ms` lines, the body as the excerpt, the curl line to reproduce it.
 */
export function httpEvidence(input: HttpEvidenceInput): HttpEvidence {
  const summary: EvidenceLine[] = []
  const side = input.sandbox !== undefined ? ` (${input.sandbox})` : ''
  if (input.request)
    summary.push({ label: 'request', value: `${input.request.method} ${input.request.url}${side}` })
  else if (input.sandbox !== undefined) summary.push({ label: 'sandbox', value: input.sandbox })
  if (input.response)
    summary.push({
      label: 'response',
      value: `${input.response.status} in ${formatElapsed(input.response.durationMs)}`,
    })
  summary.push(...(input.more ?? []))
  const out: HttpEvidence = { transport: 'http', summary }
  if (input.sandbox !== undefined) out.sandbox = input.sandbox
  if (input.request) out.request = input.request
  if (input.response) out.response = input.response
  if (input.body) out.excerpt = { label: 'body', text: input.body } satisfies EvidenceExcerpt
  if (input.reproduce !== undefined) out.reproduce = input.reproduce
  if (input.details !== undefined) out.details = input.details
  if (input.window !== undefined) out.window = input.window
  return out
}

/** Evidence of one exchange: request, response, body excerpt and curl line, redacted. */
export function exchangeEvidence(
  exchange: HttpExchange | (Pick<HttpExchange, 'curl'> & { recorded(): RecordedExchange }),
  sandbox: string,
  details?: Record<string, unknown>,
): HttpEvidence {
  return httpEvidence({
    sandbox,
    ...exchange.recorded(),
    reproduce: exchange.curl(),
    ...(details !== undefined ? { details } : {}),
  })
}

/** Evidence of a request that got no response: the request as sent and its curl line. */
export function unansweredEvidence(
  error: Pick<HttpNetworkError, 'request' | 'curl' | 'window'>,
  sandbox: string,
  details?: Record<string, unknown>,
): HttpEvidence {
  return httpEvidence({
    sandbox,
    request: error.request,
    reproduce: error.curl,
    ...(error.window ? { window: error.window } : {}),
    ...(details !== undefined ? { details } : {}),
  })
}

/** Quotes one argument for a POSIX shell, for reproduce lines of any transport. */
export { shellQuote } from '../http/curl.js'
/** `850ms`, `1.25s`: elapsed times as every report prints them. */
export { formatElapsed } from '../../plans/duration.js'
