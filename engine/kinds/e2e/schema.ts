/** The e2e block: its parameter types and the JSON Schema the plan linter validates it with. */
import type { JsonSchema } from '../../../plans/types.js'
import { httpStepSchema as httpStep, type HttpExpect, type HttpStep } from '../../api/http-step.js'
import { stringMapSchema, type RequestObject } from '../../api/vocabulary.js'

/** The request of an HTTP step: the shared request vocabulary. */
export type E2eRequest = RequestObject
export type E2eExpect = HttpExpect
export type E2eHttpStep = HttpStep

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
