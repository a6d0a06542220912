/** The migration block: its parameter types and JSON Schema. */
import type { JsonSchema } from '../../../plans/types.js'
import { dataStepSchema, type DataStep } from '../../api/data-steps-schema.js'
import { stringMapSchema } from '../../api/vocabulary.js'

export interface MigrationParams {
  /** The postgres dependency. @default the sandbox's only one */
  database?: string
  /** The baseline services started against the migrated database. @default the sandbox's default service */
  services?: string[]
  /** @default the first of `services` */
  service?: string
  headers?: Record<string, string>
  /** What the old code is asked during the rollout: requests and SQL, as in a data block. @default none */
  steps?: DataStep[]
  /**
   * Checks of the plan, by name, run against the baseline's code on the migrated database (their
   * `compare: baseline` against the baseline on its own schema). @default the plan's other checks when the
   * block has no `steps`, else none
   */
  checks?: string[]
  /** Then run the down migrations, and the steps against the candidate's code on the reverted schema. @default false */
  rollback?: boolean
  /** What fails the check besides a failing migration or step: `access-exclusive`, `rewrite`. @default warnings only */
  forbid?: Array<'access-exclusive' | 'rewrite'>
}

export const migrationSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    database: { type: 'string' },
    services: { type: 'array', minItems: 1, items: { type: 'string' } },
    service: { type: 'string' },
    headers: stringMapSchema,
    steps: { type: 'array', minItems: 1, items: dataStepSchema },
    checks: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      description:
        'Checks of this plan, by name, run against the baseline’s code on the migrated database. @default the plan’s other checks when there are no steps',
    },
    rollback: { type: 'boolean' },
    forbid: { type: 'array', items: { enum: ['access-exclusive', 'rewrite'] } },
  },
}
