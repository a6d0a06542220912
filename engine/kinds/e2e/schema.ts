/** The e2e block: its parameter types and the JSON Schema the plan linter validates it with. */
import type { JsonSchema } from '../../../plans/types.js'
import { assertionSchema } from '../../api/assertions.js'
import { requestSchema, statusSchema, stringMapSchema, type RequestObject } from '../../api/vocabulary.js'

/** The request of an HTTP step: the shared request vocabulary. */
export type E2eRequest = RequestObject

export interface E2eExpect {
  /** A code, a list of codes, or a class such as `2xx`. @default any status below 400 */
  status?: number | string | Array<number | string>
  /** Header name → assertion (names case-insensitive). */
  headers?: Record<string, unknown>
  /** JSON pointer (`/id`) or JSONPath (`$.items[0].sku`) → assertion; a plain value means deep equals. */
  json?: Record<string, unknown>
  /** Assertion on the body as text, e.g. `{ contains: ok }`. */
  body?: unknown
  /** Slowest acceptable response, in milliseconds. */
  maxMs?: number
}

export interface E2eHttpStep {
  name: string
  /** @default the sandbox's default service */
  service?: string
  /** @default candidate */
  sandbox?: 'candidate' | 'baseline'
  /** `"GET /path"` or the object form. */
  request: string | E2eRequest
  /** Headers added to the request (over the request's own). */
  headers?: Record<string, string>
  expect?: E2eExpect
  /** Variable → `/pointer`, `$.jsonpath`, `header:NAME`, `status` or `body`. */
  capture?: Record<string, string>
  /** Request timeout (`5s`, or milliseconds). @default the check's remaining time */
  timeout?: string | number
  /**
   * An asynchronous effect: retry the request with backoff until its expectations hold or this much time
   * has passed (`5s`); the finding says how many attempts were made and what the last one returned.
   */
  eventually?: string | number
}

export interface E2eRunStep {
  name: string
  /** Command line (split like argv, no shell) or argv. Exit code 0 passes. */
  run: string | string[]
  /** Relative to the plan's folder. @default the plan's folder */
  cwd?: string
  /** Extra environment (templates allowed); sandbox URLs are always set. */
  env?: Record<string, string>
  /** @default the check's remaining time */
  timeout?: string | number
}

export type E2eStep = E2eHttpStep | E2eRunStep

export interface E2eParams {
  steps: E2eStep[]
  /**
   * `both`: run the steps on the baseline too, each side with its own captures; a failure the baseline
   * shares is pre-existing (a warning), one only the candidate has is new (an error). @default candidate
   */
  sides?: 'candidate' | 'both'
}

const duration = {
  type: ['string', 'number'],
  description: 'A duration like 500ms, 30s, 2m, or milliseconds',
}
const assertion = assertionSchema
const httpStep = {
  type: 'object',
  required: ['name', 'request'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    service: { type: 'string', minLength: 1 },
    sandbox: { enum: ['candidate', 'baseline'] },
    request: requestSchema,
    headers: stringMapSchema,
    expect: {
      type: 'object',
      additionalProperties: false,
      properties: {
        status: statusSchema,
        headers: { type: 'object', additionalProperties: assertion },
        json: { type: 'object', additionalProperties: assertion, propertyNames: { pattern: '^(/|\\$)|^$' } },
        body: assertion,
        maxMs: { type: 'number', exclusiveMinimum: 0 },
      },
    },
    capture: {
      type: 'object',
      additionalProperties: { type: 'string', pattern: '^(/.*|\\$.*|header:.+|status|body)?$' },
    },
    timeout: duration,
    eventually: {
      anyOf: [
        { type: 'number', exclusiveMinimum: 0 },
        {
          type: 'string',
          pattern: '^\\s*(\\d+(\\.\\d+)?(ms|s|m|h))+\\s*$',
        },
      ],
    },
  },
}

const runStep = {
  type: 'object',
  required: ['name', 'run'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    run: {
      anyOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', items: { type: 'string' }, minItems: 1 },
      ],
    },
    cwd: { type: 'string', 'x-file': 'folder' },
    env: stringMapSchema,
    timeout: duration,
  },
}

export const e2eSchema: JsonSchema = {
  title: 'e2e check',
  description:
    'Ordered steps: HTTP requests with assertions and captures, or `run:` steps executing a test command.',
  type: 'object',
  required: ['steps'],
  additionalProperties: false,
  properties: {
    steps: {
      type: 'array',
      minItems: 1,
      items: { if: { type: 'object', required: ['run'] }, then: runStep, else: httpStep },
    },
    sides: {
      enum: ['candidate', 'both'],
      description: 'both: run the steps on the baseline too; failures it shares are pre-existing.',
    },
  },
  // With both sides, each step runs on each side: a step cannot pick one.
  if: { required: ['sides'], properties: { sides: { const: 'both' } } },
  then: {
    properties: {
      steps: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            sandbox: {
              not: {},
              'x-hint': 'with sides: both every step runs on both sandboxes; remove "sandbox"',
            },
          },
        },
      },
    },
  },
}
