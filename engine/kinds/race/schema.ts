/** The race block: its parameter types and the JSON Schema the plan linter validates it with. */
import type { JsonSchema } from '../../../plans/types.js'
import { httpStepSchema, type HttpStep } from '../../api/http-step.js'
import { requestSchema, stringMapSchema, type RequestInput } from '../../api/vocabulary.js'

export interface RaceParams {
  /** The service the racing requests go to. @default the sandbox's default service */
  service?: string
  /** HTTP steps run before each round, e.g. setting the stock to 3. @default none */
  setup?: HttpStep[]
  /** The request sent `concurrency` times at once; `{{round}}` and `{{index}}` tell the copies apart. */
  request: RequestInput
  /** Headers added to every racing request. */
  headers?: Record<string, string>
  /** Requests released together in each round (connections opened first). */
  concurrency: number
  /** @default 5 */
  rounds?: number
  /** HTTP steps run after each round: the invariants of the state the round left. */
  invariants: HttpStep[]
  /** `both`: run on the baseline too; an invariant the baseline breaks as well is pre-existing. @default both when the run has a baseline */
  sides?: 'candidate' | 'both'
}

const steps = { type: 'array', minItems: 1, items: httpStepSchema }

export const raceSchema: JsonSchema = {
  title: 'race check',
  description:
    'N requests released together in rounds (connections opened first), then invariant steps on the state each round left.',
  type: 'object',
  required: ['request', 'concurrency', 'invariants'],
  additionalProperties: false,
  properties: {
    service: { type: 'string', minLength: 1 },
    setup: steps,
    request: requestSchema,
    headers: stringMapSchema,
    concurrency: { type: 'integer', minimum: 1, maximum: 500 },
    rounds: { type: 'integer', minimum: 1, maximum: 1000 },
    invariants: steps,
    sides: { enum: ['candidate', 'both'] },
  },
}
