/**
 * `load`: rate or connections against a sandbox service, thresholds in k6's syntax, and regression
 * against the baseline measured in the same run (A/B rounds). Engines: k6 when installed, the built-in
 * autocannon engine otherwise; the same metrics either way.
 */
import { loadSchema } from './schema.js'
import type { LoadParams } from './spec.js'
import { defineCheckKind } from '../../api/kind.js'
import { resourceMessages } from '../../api/resource-limits.js'

export default defineCheckKind<LoadParams, 'http'>({
  meta: {
    needs: ['http'],
    description:
      'Latency and errors under load: k6-style thresholds and regression against the baseline in the same run',
    schema: loadSchema,
    // A measurement: its rounds run through ctx.measure, after the other checks, beside no measurement
    // that shares a service, a dependency or the load generator with it.
    exclusive: 'measure',
    messages: {
      threshold: 'Threshold {{metric}} {{threshold}} failed: measured {{actual}}.',
      'threshold-unmeasured':
        'Threshold {{metric}} {{threshold}} cannot be evaluated: the {{engine}} engine did not measure {{metric}}.',
      regression:
        'Candidate {{stat}} latency {{candidate}} ms is {{ratio}}× the baseline’s {{baseline}} ms; per A/B round {{perRound}}×, interval {{interval}}, wholly above the allowed {{allowed}}× ({{rounds}} rounds).',
      'regression-undecided':
        'Candidate {{stat}} latency is {{ratio}}× the baseline’s; per A/B round {{perRound}}×, interval {{interval}} after all {{rounds}} rounds: neither clearly within nor clearly above the allowed {{allowed}}×; not failed.',
      decision: 'Regression decided after {{rounds}} of {{planned}} A/B rounds ({{reason}}): {{summary}}.',
      'errors-increased':
        'Candidate failed {{candidate}} of requests under load, the baseline {{baseline}} (same load, same run).',
      measured:
        '{{side}}: {{requests}} requests at {{rps}}/s, p50 {{p50}} ms, p95 {{p95}} ms, p99 {{p99}} ms, {{failed}} failed ({{engine}} engine).',
      'engine-note': '{{note}}.',
      'k6-thresholds': 'k6 itself judged these thresholds failed: {{list}}.',
      stopped: 'Load stopped early: {{reason}}.',
      'no-baseline': 'Regression not measured: this run has no baseline; only the thresholds were evaluated.',
      ...resourceMessages,
      'resources-measured':
        '{{side}} {{service}} under load: RSS peak {{rssPeak}}, slope {{slope}}/1000 requests; CPU {{cpu}}; fds peak {{fds}}; threads peak {{threads}}.',
      'resources-unsupported':
        'Resources of {{service}} not sampled on the {{side}} sandbox: it runs no local process vigil can read.',
    },
  },
  // The runtime (autocannon, the HDR histograms, k6, the Kubernetes client) loads on the first run.
  run: async (ctx) => (await import('./run.js')).runLoad(ctx),
})
