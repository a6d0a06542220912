/**
 * `contract`: responses match their schema (a JSON Schema file or an OpenAPI operation), and do not
 * break against the baseline — removed fields, type changes, status changes (unless declared in
 * `allowStatus`), lost enum values — while noise is not held against it: declared ignores and volatile
 * headers are skipped, and fields that differ between two baseline calls are compared by class only.
 */
import type { JsonSchema } from '../../../plans/types.js'
import type { ContractParams } from './params.js'
import { defineCheckKind } from '../../api/kind.js'
import {
  requestEntryProperties,
  requestSchema,
  setupStepSchema,
  statusSchema,
  stringMapSchema,
} from '../../api/vocabulary.js'
import { allowStatusSchema } from '../../api/comparison/status-transitions.js'
import { lintContract } from './lint.js'

const expect = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: statusSchema,
    contentType: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    headers: { type: 'array', items: { type: 'string' } },
    schema: {
      description: 'A JSON Schema file relative to the plan (optionally #/pointer), or an inline schema.',
      oneOf: [{ type: 'string', 'x-file': 'schema' }, { type: 'object' }],
    },
  },
}
const compare = {
  description: '`baseline`, or options of the comparison with the baseline.',
  oneOf: [
    { type: 'string', enum: ['baseline'] },
    { type: 'boolean' },
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        against: { type: 'string', enum: ['baseline'] },
        ignore: { type: 'array', items: { type: 'string' } },
        ignoreOrder: { type: 'boolean' },
        unsafe: { type: 'boolean' },
        headers: { type: 'array', items: { type: 'string' } },
        learnNoise: { type: 'boolean' },
        values: { type: 'string', enum: ['error', 'warning', 'info', 'ignore'] },
        noiseClass: { type: 'string', enum: ['error', 'warning', 'info', 'ignore'] },
        allowStatus: allowStatusSchema,
      },
    },
  ],
}
const requestEntry = {
  type: 'object',
  additionalProperties: false,
  required: ['request'],
  properties: {
    ...requestEntryProperties,
    expect,
    compare,
  },
}
const setupEntry = setupStepSchema()

/** JSON Schema of a `contract` block. */
export const contractSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    service: { type: 'string' },
    request: requestSchema,
    requests: { type: 'array', minItems: 1, items: requestEntry },
    openapi: {
      type: 'string',
      'x-file': 'openapi',
      description: 'An OpenAPI 3.x document, relative to the plan file.',
    },
    operations: {
      type: 'array',
      items: { type: 'string', 'x-operation': 'openapi' },
      description: 'operationIds (or `METHOD /path`) of the openapi document to call; default every one.',
    },
    tags: { type: 'array', items: { type: 'string' } },
    paths: { type: 'array', items: { type: 'string' } },
    params: { type: 'object' },
    headers: stringMapSchema,
    expect,
    compare,
    setup: { type: 'array', items: setupEntry },
    sides: {
      enum: ['candidate', 'both'],
      description: 'both: hold the baseline to the same expectations; violations it shares are pre-existing.',
    },
  },
  anyOf: [{ required: ['request'] }, { required: ['requests'] }, { required: ['openapi'] }],
  not: { required: ['request', 'requests'] },
}

export default defineCheckKind<ContractParams, 'http'>({
  meta: {
    needs: ['http'],
    description: 'Responses match their schema, and do not break against the baseline',
    schema: contractSchema,
    lint: lintContract,
    messages: {
      status: 'Expected status {{expected}}, got {{actual}}.',
      'content-type': 'Expected content type {{expected}}, got {{actual}}.',
      'missing-header': 'Required header {{header}} is missing.',
      schema: 'Body {{pointer}} {{reason}} (got {{actual}}).',
      'not-json': 'Expected a JSON body, got {{actual}}.',
      'request-failed': 'The {{sandbox}} did not answer {{request}}: {{reason}}',
      'setup-failed': 'Setup failed on the {{sandbox}} at "{{step}}": {{reason}}.',
      'compare-skipped': 'Not compared with the baseline: {{reason}}.',
      'sides-without-baseline':
        'sides: both needs a baseline; this run has none, so every violation of the candidate counts.',
      'status-changed':
        'Status changed from {{baseline}} to {{candidate}}. If the change is intended, {{how}}.',
      'status-change-accepted':
        'Status changed from {{baseline}} to {{candidate}}, accepted by allowStatus {{transition}}.',
      'content-type-changed': 'Content type changed from {{baseline}} to {{candidate}}.',
      'header-removed': 'Header {{header}} was removed; baseline has {{baseline}}.',
      'header-changed': 'Header {{header}} changed from {{baseline}} to {{candidate}}.',
      'header-added': 'Candidate adds header {{header}} (not breaking).',
      'field-removed': 'Field {{pointer}} was removed{{where}}{{rename}}.',
      'type-changed':
        'Field {{pointer}} changed type from {{from}} to {{to}}{{where}}: baseline {{baseline}}, candidate {{candidate}}.',
      'became-nullable': 'Field {{pointer}} became null{{where}}; baseline has {{baseline}}.',
      'enum-value-removed':
        'Enum value {{value}} at {{pointer}} is no longer returned; candidate returns {{returned}}.',
      'enum-value-added': 'Candidate returns a new enum value {{value}} at {{pointer}} (not breaking).',
      'field-added': 'Candidate adds field {{pointer}}{{where}} (not breaking).',
      'value-changed': 'Value at {{pointer}} changed from {{baseline}} to {{candidate}}{{where}}.',
      'length-changed': 'Array {{pointer}} has {{candidate}} elements; baseline has {{baseline}}{{where}}.',
      'noise-learned': 'Compared by class only, because two baseline calls differ there: {{pointers}}.',
      'noise-class-changed':
        'The {{subject}} differs between baseline calls, so its values are not compared, but its class changed{{where}}: baseline {{from}} ({{baseline}}), candidate {{to}} ({{candidate}}).',
    },
  },
  // The runtime (the HTTP client, schemas and OpenAPI documents) loads on the first run, not with the schema.
  run: async (ctx) => (await import('./runner.js')).runContract(ctx),
  // The request the finding names (its step), sent to both sandboxes as the run sent it.
  replay: async (ctx, finding) =>
    (await import('./runner.js')).runContract(
      ctx,
      finding.messageId === 'setup-failed' ? undefined : finding.step,
    ),
})
