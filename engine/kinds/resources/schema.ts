/** The resources block: its parameter types and its JSON Schema. */
import type { JsonSchema } from '../../../plans/types.js'
import { resourceThresholdProperties, type ResourceThresholds } from '../../api/resource-limits.js'
import { requestSchema, stringMapSchema, type RequestInput } from '../../api/vocabulary.js'

export interface ResourcesParams extends ResourceThresholds {
  /** @default the sandbox's default service */
  service?: string
  /** The request repeated; `{{index}}` is its number. */
  request: RequestInput
  headers?: Record<string, string>
  /** @default 2000 */
  requests?: number
  /** Requests in flight at once. @default 4 */
  concurrency?: number
}

export const resourcesSchema: JsonSchema = {
  title: 'resources check',
  description:
    'RSS, CPU time, file descriptors and threads of a service under repeated requests: absolute limits, limits relative to the baseline, and a leak slope.',
  type: 'object',
  required: ['request'],
  additionalProperties: false,
  anyOf: [{ required: ['limits'] }, { required: ['relative'] }, { required: ['leak'] }],
  properties: {
    service: { type: 'string', minLength: 1 },
    request: requestSchema,
    headers: stringMapSchema,
    requests: { type: 'integer', minimum: 100, maximum: 1_000_000 },
    concurrency: { type: 'integer', minimum: 1, maximum: 256 },
    ...resourceThresholdProperties,
  },
}
