/** The data block: its parameter types and JSON Schema. */
import type { JsonSchema } from '../../../plans/types.js'
import { dataStepSchema, type DataStep } from '../../api/data-steps-schema.js'
import { stringMapSchema } from '../../api/vocabulary.js'

export interface DataParams {
  /** The postgres dependency queried. @default the sandbox's only one */
  database?: string
  /** @default the sandbox's default service */
  service?: string
  /** Headers sent with every request. */
  headers?: Record<string, string>
  steps: DataStep[]
  /** Run the same steps on the baseline and compare each query's rows. */
  compare?: 'baseline' | { baseline?: boolean; ignore?: string[] }
}

export const dataSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['steps'],
  properties: {
    database: { type: 'string', description: 'The postgres dependency queried. @default the only one' },
    service: { type: 'string' },
    headers: stringMapSchema,
    steps: { type: 'array', minItems: 1, items: dataStepSchema },
    compare: {
      oneOf: [
        { const: 'baseline' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            baseline: { type: 'boolean' },
            ignore: { type: 'array', items: { type: 'string', pattern: '^/' } },
          },
        },
      ],
    },
  },
}
