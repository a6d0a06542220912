/**
 * data: steps against the services and SQL on each sandbox's own database — rows asserted, and with
 * `compare: baseline` the same queries' rows on the baseline compared with the candidate's, values that
 * differ between two baseline runs (ids, times) being noise.
 */
import { defineCheckKind } from '../../api/kind.js'
import { dataStepMessages } from '../../api/data-steps-schema.js'
import { dataSchema, type DataParams } from './schema.js'

export type { DataParams } from './schema.js'

export default defineCheckKind<DataParams, 'http' | 'database'>({
  meta: {
    needs: ['http', 'database'],
    description:
      'SQL on each sandbox’s own database after steps: rows asserted and compared with the baseline',
    schema: dataSchema,
    messages: {
      ...dataStepMessages,
      differs:
        'Step "{{step}}": rows at {{path}} differ from the baseline ({{kind}}): baseline {{baseline}}, candidate {{candidate}}.',
      'baseline-failed': 'The baseline could not run the steps ({{reason}}); rows were not compared.',
    },
  },
  run: async (ctx) => (await import('./run.js')).runData(ctx),
})
