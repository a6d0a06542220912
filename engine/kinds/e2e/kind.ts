/**
 * e2e: ordered steps against named services — requests with assertions and captures — and `run:`
 * steps that execute an existing test command with the sandbox URLs in its environment.
 * The first failing step stops the check; the steps after it are reported as not run. With `sides: both`
 * the steps run on the baseline too (sides.ts): a failure the baseline shares is pre-existing.
 */
import { e2eSchema, type E2eParams } from './schema.js'
import { defineCheckKind } from '../../api/kind.js'
import { httpStepMessages } from '../../api/http-step.js'

export type { E2eParams, E2eStep, E2eHttpStep, E2eRunStep, E2eRequest, E2eExpect } from './schema.js'

export default defineCheckKind<E2eParams, 'http'>({
  meta: {
    needs: ['http'],
    description: 'Ordered requests with assertions and captures across services, and existing test commands',
    schema: e2eSchema,
    messages: {
      ...httpStepMessages,
      'not-run': 'Step "{{step}}" was not run: step "{{failed}}" failed before it.',
      'run-passed': 'Step "{{step}}": `{{command}}` passed.',
      'run-failed': 'Step "{{step}}": `{{command}}` exited with {{exit}}.',
      'run-timeout': 'Step "{{step}}": `{{command}}` timed out after {{timeout}}.',
      'run-spawn': 'Step "{{step}}": `{{command}}` could not start: {{error}}.',
      'baseline-only':
        'Step "{{step}}" fails on the baseline ({{what}}) but not on the candidate: the change may fix it.',
      'baseline-stopped':
        'Step "{{step}}" fails on the candidate and could not be compared: the baseline stopped at step "{{failed}}" before it.',
      'sides-without-baseline':
        'sides: both needs a baseline; this run has none, so the steps ran on the candidate only and every failure counts.',
    },
  },
  // The runtime (the HTTP client, child processes) loads on the first run, not with the schema.
  run: async (ctx) => (await import('./run.js')).runE2e(ctx),
  replay: async (ctx, finding) => {
    const [{ replaySteps }, { runE2e }] = await Promise.all([import('./replay.js'), import('./run.js')])
    return replaySteps(ctx, finding, runE2e)
  },
})
