/**
 * `resources`: a fresh copy of a service on each side takes the same repeated requests while its RSS, CPU
 * time, file descriptors and threads are sampled (/proc). Fails on an absolute limit, a limit relative
 * to the baseline under the same traffic, or a leak: an RSS slope over the requests, robust to garbage
 * collection's saw-teeth (leak.ts). A comparison with the baseline that fails is measured again in the
 * opposite order and counts only when it fails again. The series are kept in the evidence, so a reader can plot them.
 */
import { defineCheckKind } from '../../api/kind.js'
import { resourceMessages } from '../../api/resource-limits.js'
import { resourcesSchema, type ResourcesParams } from './schema.js'

export type { ResourcesParams } from './schema.js'

export default defineCheckKind<ResourcesParams, 'http'>({
  meta: {
    needs: ['http'],
    description: 'Memory, CPU, descriptors and threads of a service under repeated requests; leaks',
    schema: resourcesSchema,
    // A measurement: it runs alone, after the other checks, on copies started for it.
    exclusive: true,
    messages: {
      ...resourceMessages,
      failed: '{{side}} {{service}}: {{failed}} of {{requests}} requests failed ({{example}}).',
      measured:
        '{{side}} {{service}}{{again}}: {{requests}} requests; RSS {{rssStart}} → peak {{rssPeak}}, slope {{slope}}/1000 requests; CPU {{cpu}}; fds peak {{fds}}; threads peak {{threads}}.',
      unconfirmed:
        '{{service}}: the {{figure}} limit failed on one measurement but not on a second in the opposite order ({{outcomes}}): not counted.',
      unsupported: 'Resources not sampled on the {{side}} sandbox: {{reason}}.',
    },
  },
  run: async (ctx) => (await import('./run.js')).runResources(ctx),
})
