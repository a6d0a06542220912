/** The `event` block's schema and parameters. */
import type { JsonSchema } from '../../../plans/types.js'
import { assertionSchema, operatorsSchema } from '../../api/assertions.js'
import { requestSchema, stringMapSchema, type RequestInput } from '../../api/vocabulary.js'

export interface EventExpect {
  /** Subject, stream, routing key or topic. */
  channel: string
  /** How many messages: a number, or an assertion (`{ gte: 1 }`). @default at least one */
  count?: number | Record<string, unknown>
  /** How long after the trigger messages may still arrive. @default 2s */
  within?: string | number
  /** A JSON Schema file, or an AsyncAPI message (`orders.yaml#/components/messages/OrderCreated`). */
  schema?: string
  /** Assertions on every message's payload, as in e2e. */
  json?: Record<string, unknown>
}

export interface EventParams {
  /** The dependency (broker) of the sandbox. @default its only broker */
  broker?: string
  trigger:
    | { request: RequestInput; service?: string; headers?: Record<string, string> }
    | { publish: { channel: string; json?: unknown; body?: string; headers?: Record<string, string> } }
  /** An AsyncAPI 2 or 3 document: channels are checked against it, `schema:` may name its messages. */
  asyncapi?: string
  expect: EventExpect[]
  /** Compare the candidate's messages with the baseline's. */
  compare?: 'baseline' | { baseline?: boolean; ignore?: string[] }
}

const duration = {
  anyOf: [
    { type: 'number', minimum: 0 },
    {
      type: 'string',
      pattern: '^\\s*(\\d+(\\.\\d+)?(ms|s|m|h))+\\s*$',
    },
  ],
}
const assertion = { anyOf: [operatorsSchema, assertionSchema] }

export const eventSchema: JsonSchema = {
  title: 'event check',
  description:
    'A trigger (an HTTP request or a published message), then messages captured on channels of each sandbox’s broker: counted, validated, compared with the baseline’s.',
  type: 'object',
  required: ['trigger', 'expect'],
  additionalProperties: false,
  properties: {
    broker: { type: 'string', minLength: 1 },
    asyncapi: { type: 'string', minLength: 1, 'x-file': 'schema' },
    trigger: {
      oneOf: [
        {
          type: 'object',
          required: ['request'],
          additionalProperties: false,
          properties: { request: requestSchema, service: { type: 'string' }, headers: stringMapSchema },
        },
        {
          type: 'object',
          required: ['publish'],
          additionalProperties: false,
          properties: {
            publish: {
              type: 'object',
              required: ['channel'],
              additionalProperties: false,
              properties: {
                channel: { type: 'string', minLength: 1 },
                json: {},
                body: { type: 'string' },
                headers: stringMapSchema,
              },
            },
          },
        },
      ],
    },
    expect: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['channel'],
        additionalProperties: false,
        properties: {
          channel: { type: 'string', minLength: 1 },
          count: { anyOf: [{ type: 'integer', minimum: 0 }, operatorsSchema] },
          within: duration,
          schema: { type: 'string', minLength: 1, 'x-file': 'schema' },
          json: {
            type: 'object',
            additionalProperties: assertion,
            propertyNames: { pattern: '^(/|\\$)|^$' },
          },
        },
      },
    },
    compare: {
      anyOf: [
        { const: 'baseline' },
        {
          type: 'object',
          additionalProperties: false,
          properties: { baseline: { type: 'boolean' }, ignore: { type: 'array', items: { type: 'string' } } },
        },
      ],
    },
  },
}
