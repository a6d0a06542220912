/**
 * `fault`: a fault on a dependency edge (`orders -> payments`, `orders -> db`) for the duration of the
 * steps. The caller is started afresh for the check with that edge going through a fault proxy (its
 * other edges untouched), so the fault reaches no other check. Asserts what the caller answers (steps in
 * the e2e vocabulary: status, body, `maxMs`), how many attempts the proxy saw, and recovery once the fault
 * is lifted. With a baseline the same runs there: a failure the baseline shares is pre-existing.
 */
import { defineCheckKind } from '../../api/kind.js'
import { httpStepMessages } from '../../api/http-step.js'
import { faultSchema, type FaultParams } from './schema.js'
import { lintFault } from './spec.js'

export type { FaultParams, FaultSpec } from './schema.js'

export default defineCheckKind<FaultParams, 'http' | 'faults'>({
  meta: {
    needs: ['http', 'faults'],
    description:
      'Behaviour of a service when a dependency fails: clear answers in bounded time, bounded retries, recovery',
    schema: faultSchema,
    lint: lintFault,
    messages: {
      ...httpStepMessages,
      'attempts-max':
        '{{edge}} saw {{actual}} attempts during the steps under {{fault}}; at most {{expected}} expected (retries must be bounded).',
      'attempts-min':
        '{{edge}} saw {{actual}} attempts during the steps under {{fault}}; at least {{expected}} expected.',
      'not-run': 'Step "{{step}}" was not run: step "{{failed}}" failed before it.',
      applied: '{{side}}: {{fault}} on {{edge}}; the proxy saw {{attempts}} attempts, faulted {{faulted}}.',
    },
  },
  run: async (ctx) => (await import('./run.js')).runFault(ctx),
})
