/**
 * What a plan writes for the steps of the `data` and `migration` kinds: their types, JSON Schema and messages.
 * Kept apart from the steps' runtime (data-steps.ts) so that reading a plan's schema loads no HTTP client.
 */
import type { JsonSchema } from '../../plans/types.js'
import { assertionSchema } from './assertions.js'
import { requestEntryProperties, statusSchema, type RequestInput } from './vocabulary.js'

export interface DataHttpStep {
  name?: string
  service?: string
  request: RequestInput
  headers?: Record<string, string>
  /** `status` (@default 2XX) and JSON pointer → assertion. */
  expect?: { status?: number | string | Array<number | string>; json?: Record<string, unknown> }
  /** Variable → JSON pointer into the response body. */
  capture?: Record<string, string>
}

export interface DataSqlStep {
  name?: string
  /** One statement; `{{name}}` is a bound parameter. */
  sql: string
  /** Run in a read-write transaction. @default false */
  write?: boolean
  /** `rows`: a count or an assertion on it; `json`: pointer into the rows (`/0/status`) → assertion. */
  expect?: { rows?: unknown; json?: Record<string, unknown> }
  /** Variable → pointer into the rows (`/0/id`). */
  capture?: Record<string, string>
}

export type DataStep = DataHttpStep | DataSqlStep

export const dataStepSchema: JsonSchema = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['request'],
      properties: {
        ...requestEntryProperties,
        expect: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: statusSchema,
            json: { type: 'object', additionalProperties: assertionSchema },
          },
        },
        capture: { type: 'object', additionalProperties: { type: 'string', pattern: '^/' } },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['sql'],
      properties: {
        name: { type: 'string' },
        sql: { type: 'string', minLength: 1 },
        write: { type: 'boolean', description: 'Run in a read-write transaction. @default false' },
        expect: {
          type: 'object',
          additionalProperties: false,
          properties: {
            rows: assertionSchema,
            json: { type: 'object', additionalProperties: assertionSchema },
          },
        },
        capture: { type: 'object', additionalProperties: { type: 'string', pattern: '^/' } },
      },
    },
  ],
}

/** Messages the steps report with; a kind spreads them into its `meta.messages`. */
export const dataStepMessages = {
  status: 'Step "{{step}}" on the {{sandbox}}: {{request}} expected status {{expected}}, got {{actual}}.',
  network: 'Step "{{step}}" on the {{sandbox}}: {{request}} failed: {{error}}.',
  json: 'Step "{{step}}" on the {{sandbox}}: {{pointer}}: {{detail}}.',
  rows: 'Step "{{step}}" on the {{sandbox}}: {{detail}} rows.',
  'sql-error': 'Step "{{step}}" on the {{sandbox}}: the query failed: {{error}}.',
  capture: 'Step "{{step}}" on the {{sandbox}}: nothing at {{pointer}} to capture into "{{variable}}".',
} as const
