/**
 * `race`: N requests released together — connections opened first — in rounds, then invariant steps on
 * the state each round left (stock never negative, one redemption of a single-use code, no duplicate
 * ids). Reports how many rounds broke an invariant, with one broken round's requests and responses as
 * evidence. The release order is seeded, so a broken round can be replayed. With a baseline the same
 * rounds run there: an invariant the baseline breaks too is pre-existing.
 */
import { defineCheckKind } from '../../api/kind.js'
import { httpStepMessages } from '../../api/http-step.js'
import { raceSchema, type RaceParams } from './schema.js'

export type { RaceParams } from './schema.js'

export default defineCheckKind<RaceParams, 'http'>({
  meta: {
    needs: ['http'],
    description: 'Concurrent requests released together in rounds, then invariants on the resulting state',
    schema: raceSchema,
    messages: {
      ...httpStepMessages,
      broken:
        '{{broken}} of {{rounds}} rounds of {{concurrency}} concurrent {{request}} broke an invariant; round {{round}} (seed {{seed}}): {{detail}}',
      rounds: '{{side}}: {{broken}} of {{rounds}} rounds broke an invariant ({{concurrency}} requests each).',
    },
  },
  run: async (ctx) => (await import('./run.js')).runRace(ctx),
})
