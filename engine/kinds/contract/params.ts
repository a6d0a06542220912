/** The parameters of a `contract` block, as the plan writes them (validated by the kind's JSON Schema). */
import type { SetupEntry } from '../../api/setup.js'
import type { RequestInput } from '../../api/vocabulary.js'

export type { SetupEntry }

/** `"GET /orders/{{id}}"` or an object: the shared request vocabulary. */
export type RequestParam = RequestInput

export interface ExpectParam {
  /** Allowed statuses (`200`, `[200, 404]`, `2XX`). @default the documented ones, else 2XX */
  status?: number | string | Array<number | string>
  /** Allowed media types. @default the documented ones */
  contentType?: string | string[]
  /** Header names that must be present. @default [] */
  headers?: string[]
  /** JSON Schema of the body: a file relative to the plan (`./schemas/order.json#/definitions/Order`) or inline. */
  schema?: string | Record<string, unknown>
}

export interface CompareObject {
  /** @default baseline */
  against?: 'baseline'
  /** Pointer patterns to ignore (`/**\/id`, `/generatedAt`). @default [] */
  ignore?: string[]
  /** Compare arrays as multisets. @default false */
  ignoreOrder?: boolean
  /** Also send unsafe methods (POST, PUT, PATCH, DELETE) to the baseline, twice. @default false */
  unsafe?: boolean
  /** Compare only these headers (plus content-type), failing on their changes. @default every non-volatile header, as warnings */
  headers?: string[]
  /** Call the baseline twice and ignore what differs between the calls. @default true */
  learnNoise?: boolean
  /** Severity of a changed value or array length. @default warning */
  values?: 'error' | 'warning' | 'info' | 'ignore'
  /**
   * Severity of a field that differs between baseline calls (learned noise) and whose class changed in the
   * candidate: format (hex → base64url), number class (integer → fractional) or length band. @default warning
   */
  noiseClass?: 'error' | 'warning' | 'info' | 'ignore'
  /** Status changes accepted as intended, `'FROM->TO'` of codes or classes: `['404->400', '5xx->503']`. @default [] */
  allowStatus?: string[]
}

export type CompareParam = 'baseline' | boolean | CompareObject

export interface RequestEntry {
  name?: string
  service?: string
  request: RequestParam
  headers?: Record<string, string>
  expect?: ExpectParam
  compare?: CompareParam
}

export interface ContractParams {
  /** @default the sandbox's default service */
  service?: string
  request?: RequestParam
  requests?: RequestEntry[]
  /** An OpenAPI 3.x document, relative to the plan file. */
  openapi?: string
  operations?: string[]
  tags?: string[]
  paths?: string[]
  /** Values of OpenAPI parameters by name (path, query, header), e.g. `{ orderId: "{{orderId}}" }`. */
  params?: Record<string, unknown>
  /** Headers sent with every request of the block. @default {} */
  headers?: Record<string, string>
  expect?: ExpectParam
  compare?: CompareParam
  /** Requests run once per sandbox before the others; their captures are per sandbox. */
  setup?: SetupEntry[]
  /**
   * `both`: send every request to the baseline too (once; unsafe methods included) and hold its answers
   * to the same expectations: a violation the baseline shares is pre-existing (a warning). @default candidate
   */
  sides?: 'candidate' | 'both'
}
