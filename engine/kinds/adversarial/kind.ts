/**
 * `adversarial`: cases generated from the schemas with a fixed seed try to break the change — wrong
 * types, missing and extra fields, boundaries, oversize, malformed JSON, injection strings, missing,
 * malformed and foreign credentials — and switchable oracles judge the answers: no 5xx, invalid input
 * rejected with a 4xx, no stack trace, internal path or secret, authorization enforced, still healthy.
 */
import type { JsonSchema } from '../../../plans/types.js'
import { MAX_BODY_BYTES, MAX_CASES, ORACLES, type AdversarialParams } from './params.js'
import { resetSchema } from './reset-schema.js'
import { defineCheckKind } from '../../api/kind.js'
import { setupExpectSchema, setupStepSchema, statusSchema, stringMapSchema } from '../../api/vocabulary.js'

const relativePath = { type: 'string', pattern: '^/(?!/)', description: 'A path relative to the service.' }
const request = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    name: { type: 'string', minLength: 1 },
    method: { type: 'string', pattern: '^[A-Za-z]+$' },
    path: relativePath,
    query: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    headers: stringMapSchema,
    json: {},
    schema: { oneOf: [{ type: 'string', 'x-file': 'schema' }, { type: 'object' }] },
    auth: { type: 'boolean' },
    service: { type: 'string' },
  },
}
const setupRequest = {
  oneOf: [
    { type: 'string', pattern: '^\\s*([A-Za-z]+\\s+)?/\\S*\\s*$' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        method: { type: 'string', pattern: '^[A-Za-z]+$' },
        path: relativePath,
        query: { type: 'object' },
        headers: stringMapSchema,
        json: {},
        body: { type: 'string' },
      },
    },
  ],
}
const setupEntry = setupStepSchema(setupRequest)
const roleList = { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } }
const principal = {
  description:
    'A credential, or { token | headers | login, roles }: login is a request whose session cookie (or token at a pointer) is kept.',
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      additionalProperties: false,
      anyOf: [{ required: ['token'] }, { required: ['headers'] }, { required: ['login'] }],
      properties: {
        token: { type: 'string', minLength: 1 },
        headers: { ...stringMapSchema, minProperties: 1 },
        roles: { ...roleList, minItems: 0 },
        login: {
          type: 'object',
          additionalProperties: false,
          required: ['request'],
          properties: {
            request: setupRequest,
            service: { type: 'string', minLength: 1 },
            headers: stringMapSchema,
            expect: setupExpectSchema,
            token: {
              type: 'string',
              pattern: '^/',
              description: 'JSON pointer to a bearer token in the answer.',
            },
          },
        },
      },
    },
  ],
}

/** One explicit case (as `vigil adversary suggest` writes them). Also validates the LLM's reply. */
export const suggestedCaseSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'operation', 'request', 'expect'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 120 },
    operation: { type: 'string', minLength: 1, maxLength: 200 },
    request: {
      type: 'object',
      additionalProperties: false,
      required: ['method', 'path'],
      properties: {
        method: { type: 'string', pattern: '^[A-Za-z]{1,10}$' },
        path: { ...relativePath, maxLength: 2048 },
        headers: {
          type: 'object',
          maxProperties: 20,
          additionalProperties: { type: 'string', maxLength: 1024 },
        },
        json: {},
        body: { type: 'string', maxLength: 65536 },
        contentType: { type: 'string', maxLength: 200 },
      },
      not: { required: ['json', 'body'] },
    },
    auth: { type: 'string', enum: ['owner', 'other', 'none'] },
    expect: {
      type: 'object',
      additionalProperties: false,
      required: ['status'],
      properties: { status: statusSchema },
    },
    rationale: { type: 'string', maxLength: 1000 },
  },
}

/** JSON Schema of an `adversarial` block. */
export const adversarialSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    service: { type: 'string', minLength: 1 },
    openapi: {
      type: 'string',
      'x-file': 'openapi',
      minLength: 1,
      description: 'An OpenAPI 3.x document, relative to the plan file.',
    },
    operations: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1, 'x-operation': 'openapi' },
    },
    requests: { type: 'array', minItems: 1, items: request },
    params: { type: 'object' },
    headers: stringMapSchema,
    principals: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z][\\w-]*$' },
      additionalProperties: principal,
      description:
        "owner sends the cases; other is tried on the owner's resources; any name with roles is tried on operations it may not call.",
    },
    roles: {
      type: 'object',
      additionalProperties: roleList,
      description:
        'operationId (or request name) → the roles that may call it (overrides OpenAPI security scopes).',
    },
    setup: { type: 'array', items: setupEntry },
    cases: { type: 'integer', minimum: 0, maximum: MAX_CASES, description: `Generated cases. Default 200.` },
    timeBudget: {
      description: 'Wall time for the cases: 30s, 2m, or milliseconds. Default 60s.',
      oneOf: [
        { type: 'string', pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h))+$' },
        { type: 'number', minimum: 0 },
      ],
    },
    concurrency: { type: 'integer', minimum: 1, maximum: 64 },
    oracles: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...ORACLES] } },
    newOnly: { type: 'boolean' },
    health: { oneOf: [{ type: 'string', pattern: '^\\s*([A-Za-z]+\\s+)?/\\S*\\s*$' }, { const: false }] },
    securityHeaders: {
      enum: ['warning', 'error'],
      description: 'How missing security headers on HTML and weak cookies count. Default warning.',
    },
    caseTimeout: {
      description:
        "Longest wait for one answer: 2s, or milliseconds. Default a twentieth of the check's timeout (1s to 10s).",
      oneOf: [
        { type: 'string', pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h))+$' },
        { type: 'number', minimum: 1 },
      ],
    },
    rateLimit: {
      description:
        'Failed attempts on authentication and one-time-code operations; no 429 and no slowdown after them is a warning. false: off.',
      oneOf: [
        { const: false },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            attempts: { type: 'integer', minimum: 5, maximum: 500 },
            operations: { type: 'array', items: { type: 'string', minLength: 1 } },
            severity: { enum: ['warning', 'error'] },
          },
        },
      ],
    },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    maxBodyBytes: { type: 'integer', minimum: 1024, maximum: MAX_BODY_BYTES },
    foreignStatus: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 100, maximum: 599 } },
    suggested: { type: 'array', items: suggestedCaseSchema },
    reset: resetSchema,
    isolation: {
      enum: ['none', 'sandbox'],
      description:
        'sandbox: send the cases to fresh copies of the target services, started for this check alone.',
    },
  },
  anyOf: [{ required: ['openapi'] }, { required: ['requests'] }],
  dependencies: { operations: ['openapi'] },
}

export default defineCheckKind<AdversarialParams, 'http'>({
  meta: {
    needs: ['http'],
    description:
      'Generated hostile requests do not break the service: no 5xx, invalid input rejected, no leaks, authorization enforced',
    schema: adversarialSchema,
    messages: {
      'no-server-error': '{{operation}}: {{what}} got {{status}}, a server error{{reason}} (seed {{seed}}).',
      'rejects-invalid': '{{operation}}: {{what}} is invalid but got {{status}}, not a 4xx (seed {{seed}}).',
      'no-leak': '{{operation}}: the response to {{what}} reveals {{leak}}: {{match}} (seed {{seed}}).',
      authz: '{{operation}}: {{what}} got {{status}}; expected {{expected}}.',
      'injection-evidence':
        '{{operation}}: the response to {{what}} shows the injection reached an interpreter: {{leak}}: {{match}} (seed {{seed}}).',
      differential:
        '{{operation}}: {{what}} answers differently from the same condition made always false ({{match}}): the value reaches a query (seed {{seed}}).',
      redirect: '{{operation}}: {{what}} got {{status}}, {{leak}}: {{match}} (seed {{seed}}).',
      'security-headers': '{{operation}}: the response to {{what}} is {{leak}}: {{match}} (seed {{seed}}).',
      suggested: '{{operation}}: {{what}} got {{status}}; expected {{expected}}.',
      'mass-assignment':
        '{{operation}}: {{what}} was accepted ({{status}}) and {{leak}} reads back what the client must not set: {{match}} (seed {{seed}}).',
      'foreign-write':
        '{{operation}}: {{what}} got {{status}}, yet the change stuck: {{leak}} as the owner shows {{match}} (seed {{seed}}).',
      timing:
        '{{operation}}: {{what}} took {{match}}, the valid request at most {{leak}}: a slow path an attacker can trigger at will (seed {{seed}}).',
      'rate-limit': '{{operation}}: no rate limit: {{match}}; nothing slows down guessing (seed {{seed}}).',
      enumeration: '{{operation}}: {{what}}: {{match}}, so accounts can be enumerated (seed {{seed}}).',
      'enumeration-timing':
        '{{operation}}: {{what}}: {{match}}, so accounts can be enumerated by timing (seed {{seed}}).',
      crashed:
        '{{operation}}: the service stopped answering after {{what}} ({{match}}); {{leak}} later requests were not sent into it (seed {{seed}}).',
      'control-rejected':
        '{{operation}}: the valid request got {{status}}, so the cases that mutate it prove little.',
      healthy: 'The service is not healthy after {{after}}: {{request}} got {{status}}.',
      'reset-failed':
        'The reset of the {{sandbox}} after {{after}} failed: {{reason}}{{skipped}}. What follows may reflect the state the cases left.',
      'replay-cut-short':
        'The baseline replay (newOnly) was cut short: {{replayed}} of {{toReplay}} requests replayed, because {{why}}. {{unreplayed}} failures whose request was not replayed count as new, marked partial.',
      'setup-failed': 'Setup failed on the {{sandbox}} at "{{step}}": {{reason}}.',
      legacy: '{{count}} failures also happen on the baseline and do not count (newOnly): {{oracles}}.',
      'new-only-without-baseline': 'newOnly needs a baseline; this run has none, so every failure counts.',
      summary:
        'Sent {{cases}} generated cases, {{probes}} authorization probes and {{suggested}} suggested cases to {{targets}} operations (seed {{seed}}){{budget}}{{timeouts}}{{replay}}.',
    },
  },
  // The runtime (fast-check, the HTTP client, OpenAPI documents) loads on the first run, not with the schema.
  // Loading it takes part of the check's time: the run shares out its time from when the check called it.
  run: async (ctx) => {
    const started = Date.now()
    return (await import('./run.js')).runAdversarial(ctx, started)
  },
  replay: async (ctx, finding) => (await import('./replay.js')).replayCase(ctx, finding),
})
