/**
 * The words every check kind shares (DESIGN: one vocabulary across check kinds): the schemas of
 * `request`, `headers` and `status`, and the parser of a request line, so that a request reads and
 * validates the same in an e2e step, a contract request, a load target and an adversarial setup.
 */
import { VigilError } from '../errors.js'
import type { QueryValue } from '../http/client.js'

/** Methods that change no state (RFC 9110 §9.2.1): a check sending only these writes nothing. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** A request as a plan writes it: `"METHOD /path"` (a bare path means GET) or the object form. */
export type RequestInput = string | RequestObject

export interface RequestObject {
  /** @default GET */
  method?: string
  /** Path on the service, starting with `/` once variables are rendered. */
  path: string
  query?: Record<string, QueryValue>
  headers?: Record<string, string>
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown
  /** Raw body, sent as is. */
  body?: string
}

/** A request line that is not `"METHOD /path"`. */
export class RequestLineError extends VigilError {
  constructor(line: string) {
    super('VIGIL_REQUEST_LINE', `request "${line}": expected "METHOD /path" or "/path"`)
  }
}

// The path starts with `/` or a variable; an absolute URL parses too, so that the kinds can refuse it
// with their own clear word (traffic goes only to sandbox services).
const REQUEST_LINE = /^\s*(?:([A-Za-z]+)\s+)?((?:\/|\{\{|https?:\/\/)\S*)\s*$/

/** `"post /orders"` → `{ method: 'POST', path: '/orders' }`; an object gets its method upper-cased (default GET). */
export function parseRequestLine(request: RequestInput): RequestObject & { method: string } {
  if (typeof request !== 'string') return { ...request, method: (request.method ?? 'GET').toUpperCase() }
  const match = REQUEST_LINE.exec(request)
  if (!match) throw new RequestLineError(request)
  return { method: (match[1] ?? 'GET').toUpperCase(), path: match[2]! }
}

/** Header name → value. */
export const stringMapSchema = { type: 'object', additionalProperties: { type: 'string' } }

/** The JSON Schema of `request` in every kind. */
export const requestSchema = {
  description: '"METHOD /path" (a bare path means GET) or { method, path, query, headers, json, body }.',
  oneOf: [
    { type: 'string', pattern: REQUEST_LINE.source },
    {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        method: { type: 'string', pattern: '^[A-Za-z]+$' },
        path: { type: 'string', minLength: 1 },
        query: { type: 'object' },
        headers: stringMapSchema,
        json: {},
        body: { type: 'string' },
      },
    },
  ],
}

/**
 * The properties every named request entry shares (an e2e, fault or race step, a data step's HTTP step, a
 * contract's request): its name, the service it goes to, the request and extra headers.
 */
export const requestEntryProperties = {
  name: { type: 'string', minLength: 1 },
  service: { type: 'string', minLength: 1 },
  request: requestSchema,
  headers: stringMapSchema,
}

const statusItem = {
  oneOf: [
    { type: 'integer', minimum: 100, maximum: 599 },
    { type: 'string', pattern: '^([1-5][0-9][0-9]|[1-5][Xx][Xx])$' },
  ],
}

/** The JSON Schema of an expected status: `201`, a class `"2XX"`/`"2xx"`, or a list of them. */
export const statusSchema = {
  description: 'A status (200), a class ("2XX") or a list of them.',
  oneOf: [...statusItem.oneOf, { type: 'array', minItems: 1, items: statusItem }],
}

/** `capture` of a setup request: variable → `/pointer`, `status` or `header:NAME`. */
export const setupCaptureSchema = {
  type: 'object',
  additionalProperties: { type: 'string', pattern: '^(/.*|status|header:.+)$' },
}

/** `expect` of a setup request: only its status is checked. */
export const setupExpectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { status: statusSchema },
}

/**
 * One `setup:` request (run once per sandbox, its captures becoming variables), with the kind's own
 * `request` schema: the adversarial kind allows only paths relative to the service there.
 */
export function setupStepSchema(request: object = requestSchema): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['request'],
    properties: {
      name: { type: 'string' },
      service: { type: 'string' },
      request,
      headers: stringMapSchema,
      expect: setupExpectSchema,
      capture: setupCaptureSchema,
    },
  }
}
