/** JSON Schema of a `load` block's YAML, validated when plans load (before anything runs). */
import type { JsonSchema } from '../../../plans/types.js'
import { resourceThresholdProperties } from '../../api/resource-limits.js'
import { requestSchema, stringMapSchema } from '../../api/vocabulary.js'

const duration = {
  type: 'string',
  pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m)\\s*$',
  description: 'A duration with its unit: 500ms, 3s, 2m.',
}

const statusList = {
  oneOf: [
    { type: 'integer', minimum: 100, maximum: 599 },
    { type: 'array', minItems: 1, items: { type: 'integer', minimum: 100, maximum: 599 } },
  ],
}

const weightedRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['request'],
  properties: {
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9_.-]+$',
      description: 'Sub-metric tag; default "METHOD path".',
    },
    weight: { type: 'integer', minimum: 1, maximum: 100, default: 1 },
    request: requestSchema,
    headers: stringMapSchema,
    expect: {
      type: 'object',
      additionalProperties: false,
      properties: { status: statusList },
      description: 'Statuses that count as success. @default 200-399, like k6',
    },
  },
}

const thresholdItem = {
  oneOf: [
    { type: 'string' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['threshold'],
      properties: {
        threshold: { type: 'string' },
        abortOnFail: { type: 'boolean' },
        delayAbortEval: { oneOf: [duration, { type: 'number', minimum: 0 }] },
      },
    },
  ],
}

const regressionStat = { type: 'number', exclusiveMinimum: 1, maximum: 100 }

export const loadSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    service: { type: 'string', description: 'Sandbox service to load. @default the sandbox default' },
    request: requestSchema,
    requests: { type: 'array', minItems: 1, maxItems: 50, items: weightedRequest },
    headers: { ...stringMapSchema, description: 'Headers for every request.' },
    expect: weightedRequest.properties.expect,
    rate: {
      oneOf: [
        { type: 'number', exclusiveMinimum: 0, maximum: 100000 },
        { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*/\\s*(s|m|1s|1m)\\s*$' },
      ],
      description: 'Open model: requests per second ("200/s", "600/m").',
    },
    connections: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      description: 'Closed model: concurrent connections (k6 VUs). With rate: the most connections used.',
    },
    duration: { ...duration, description: 'Measured load time per side. @default 10s' },
    warmup: {
      ...duration,
      description: 'Unmeasured load before measuring, per side. @default min(1s, duration/5)',
    },
    timeout: { ...duration, description: 'Per-request timeout. @default 10s' },
    maxRequests: {
      type: 'integer',
      minimum: 1,
      maximum: 5000000,
      description: 'Hard cap on requests per side and run. @default 200000',
    },
    thresholds: {
      type: 'object',
      additionalProperties: { oneOf: [thresholdItem, { type: 'array', items: thresholdItem }] },
    },
    regression: {
      oneOf: [
        { const: false },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            avg: regressionStat,
            med: regressionStat,
            p50: regressionStat,
            p90: regressionStat,
            p95: regressionStat,
            p99: regressionStat,
            rounds: {
              type: 'integer',
              minimum: 1,
              maximum: 40,
              description:
                'A/B round pairs the duration is split into: the most run when sequential, all of them otherwise. A round is at least 100 ms per side (1 s with `rate` or k6): more rounds than that allows are fewer, longer ones. @default 8',
            },
            sequential: {
              type: 'boolean',
              description:
                'Stop as soon as the ratio interval lies wholly below or above the allowed ratio; false runs every round. @default true',
            },
            minDeltaMs: {
              type: 'number',
              minimum: 0,
              description: 'Differences smaller than this never fail (loopback jitter). @default 1',
            },
          },
        },
      ],
    },
    resources: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      description:
        "The loaded service's RSS, CPU, descriptors and threads on each side during the load: absolute limits, limits relative to the baseline, a leak slope.",
      properties: resourceThresholdProperties,
    },
    engine: {
      enum: ['auto', 'builtin', 'k6', 'k6-operator'],
      default: 'auto',
      description: 'k6-operator: a TestRun in the cluster of a kubernetes sandbox (thresholds only).',
    },
    k6Operator: {
      type: 'object',
      additionalProperties: false,
      description: 'With engine: k6-operator.',
      properties: {
        parallelism: { type: 'integer', minimum: 1, maximum: 100, description: 'k6 runner pods. @default 1' },
        image: { type: 'string', description: "Runner image. @default the operator's" },
      },
    },
    k6: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', description: 'The k6 binary. @default k6 on PATH' },
        script: {
          type: 'string',
          'x-file': 'script',
          description: 'An existing k6 script, relative to the plan.',
        },
      },
    },
  },
  // One of: a request, weighted requests, or an existing k6 script (checked further by the spec).
  anyOf: [{ required: ['request'] }, { required: ['requests'] }, { required: ['k6'] }],
}
