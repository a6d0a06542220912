/** The fault block: its parameter types and the JSON Schema the plan linter validates it with. */
import type { JsonSchema } from '../../../plans/types.js'
import { httpStepSchema, type HttpStep } from '../../api/http-step.js'

/**
 * The fault, as a plan writes it: `hang` or `reset`, or an object — `{ status: 503 }`,
 * `{ status: 429, retryAfter: 2 }`, `{ latency: 2s }`, `{ slowBody: 200 }` (bytes per second) — with
 * `times: N` to fault only the first N requests (or connections) and let the rest through.
 */
export type FaultSpec =
  | 'hang'
  | 'reset'
  | {
      status?: number
      /** Seconds, sent as `Retry-After` with a `status`. */
      retryAfter?: number
      /** The body of a `status` answer. @default a short JSON error */
      body?: string
      latency?: string | number
      hang?: true
      reset?: true
      /** Bytes per second of the response body. */
      slowBody?: number
      times?: number
    }

export interface FaultParams {
  /** `orders -> payments` (a service) or `orders -> db` (a dependency): the service under test, and what it calls. */
  edge: string
  fault: FaultSpec
  /** HTTP steps sent while the fault is applied; their `service` defaults to the edge's caller. */
  steps: HttpStep[]
  /** Bounds on the requests (or connections) the proxy saw during the steps: the caller's attempts. */
  attempts?: { max?: number; min?: number }
  /** HTTP steps sent once the fault is lifted: the service must recover. @default none */
  recovery?: HttpStep[]
  /** `both`: run on the baseline too; a failure the baseline shares is pre-existing. @default both when the run has a baseline */
  sides?: 'candidate' | 'both'
}

const duration = { type: ['string', 'number'], description: 'A duration like 500ms, 2s, or milliseconds' }
const steps = { type: 'array', minItems: 1, items: httpStepSchema }

export const faultSchema: JsonSchema = {
  title: 'fault check',
  description:
    'A fault on a dependency edge (HTTP 503, 429, latency, no answer, reset, slow body; TCP reset, no answer, latency) while steps run against the service under test.',
  type: 'object',
  required: ['edge', 'fault', 'steps'],
  additionalProperties: false,
  properties: {
    edge: {
      type: 'string',
      pattern: '^\\s*[A-Za-z0-9_.-]+\\s*->\\s*[A-Za-z0-9_.-]+\\s*$',
      description: 'caller -> callee, e.g. "orders -> payments" or "orders -> db"',
    },
    fault: {
      anyOf: [
        { enum: ['hang', 'reset'] },
        {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            status: { type: 'integer', minimum: 400, maximum: 599 },
            retryAfter: { type: 'integer', minimum: 0 },
            body: { type: 'string' },
            latency: duration,
            hang: { const: true },
            reset: { const: true },
            slowBody: { type: 'integer', minimum: 1, description: 'bytes per second' },
            times: { type: 'integer', minimum: 1 },
          },
        },
      ],
    },
    steps,
    attempts: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { max: { type: 'integer', minimum: 0 }, min: { type: 'integer', minimum: 0 } },
    },
    recovery: steps,
    sides: { enum: ['candidate', 'both'] },
  },
}
