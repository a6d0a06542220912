/**
 * The `outputSchema` of every tool: what `structuredContent` holds, so an agent (and the SDK, which checks
 * every successful result against it) knows the shape without reading the text. Each names the fields a
 * client relies on and lets the rest through: the verdict and the selection record are versioned
 * documents with their own published schemas (reporters/schema/, selectors/schema/).
 */
import { z } from 'zod'

const diagnostic = z.looseObject({
  file: z.string(),
  line: z.number(),
  column: z.number(),
  severity: z.enum(['error', 'warning']),
  code: z.string(),
  message: z.string(),
  plan: z.string().optional(),
})

export const listPlansOutput = z.looseObject({
  plans: z.array(
    z.looseObject({
      name: z.string(),
      title: z.string(),
      selectionHint: z.string(),
      paths: z.array(z.string()),
      file: z.string(),
      checks: z.array(z.looseObject({ name: z.string(), kind: z.string(), line: z.number() })),
    }),
  ),
  problems: z.array(z.string()).describe('plan errors as file:line:col message; those plans are left out'),
})

export const lintPlansOutput = z.looseObject({
  version: z.literal(1),
  ok: z.boolean(),
  errorCount: z.number(),
  warningCount: z.number(),
  files: z.number(),
  diagnostics: z.array(diagnostic),
})

export const selectPlansOutput = z
  .looseObject({
    schemaVersion: z.literal(1),
    selector: z.string(),
    plans: z.array(z.looseObject({ name: z.string(), reason: z.string().optional() })),
    rejected: z.array(z.looseObject({ name: z.string() })),
    degraded: z.boolean(),
  })
  .describe(
    'the selection record (selectors/schema/selection-record.json); pass it to run_plans as selection',
  )

export const runPlansOutput = z
  .looseObject({
    schemaVersion: z.number(),
    status: z.enum(['pass', 'fail', 'error']),
    exitCode: z.number(),
    summary: z.looseObject({}),
    plans: z.array(
      z.looseObject({ name: z.string(), checks: z.array(z.looseObject({ state: z.string() })) }),
    ),
    errors: z.array(z.looseObject({ code: z.string(), message: z.string() })),
  })
  .describe('the JSON verdict (reporters/schema/verdict.json)')

export const reproduceOutput = z.looseObject({
  reproduced: z.boolean(),
  finding: z.looseObject({ id: z.string(), plan: z.string(), check: z.string(), message: z.string() }),
  exchanges: z.array(z.looseObject({ side: z.string() })),
  warnings: z.array(z.string()),
})

const sessionPart = z.looseObject({ part: z.string(), reason: z.string() })

export const startSessionOutput = z.looseObject({
  base: z.string(),
  all: z.boolean(),
  iterations: z.number().describe('run_plans calls the session has served'),
  services: z.looseObject({ candidate: z.array(z.string()), baseline: z.array(z.string()) }),
  reused: z.array(z.string()).describe('pieces an already running session kept'),
  rebuilt: z.array(sessionPart).describe('pieces started, each with why'),
  idleTimeoutSeconds: z.number(),
})

export const stopSessionOutput = z.looseObject({
  stopped: z.boolean().describe('false when no session was running'),
  iterations: z.number(),
})
