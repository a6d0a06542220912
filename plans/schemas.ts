import adversarial from './schema/checks/adversarial.json' with { type: 'json' }
import contract from './schema/checks/contract.json' with { type: 'json' }
import data from './schema/checks/data.json' with { type: 'json' }
import e2e from './schema/checks/e2e.json' with { type: 'json' }
import event from './schema/checks/event.json' with { type: 'json' }
import fault from './schema/checks/fault.json' with { type: 'json' }
import load from './schema/checks/load.json' with { type: 'json' }
import migration from './schema/checks/migration.json' with { type: 'json' }
import race from './schema/checks/race.json' with { type: 'json' }
import resources from './schema/checks/resources.json' with { type: 'json' }
import config from './schema/config.json' with { type: 'json' }
import frontmatter from './schema/frontmatter.json' with { type: 'json' }
import lintReport from './schema/lint-report.json' with { type: 'json' }
import type { JsonSchema } from './types.js'

/**
 * The check kinds' block schemas as shipped for editors, generated from each kind's own `meta.schema` by
 * `npm run schemas` (engine/run/check-schemas.ts; a test fails when they are stale or a kind has none).
 * plans/ validates with them when it is given no registry; a run passes the registry's own objects.
 */
export const defaultCheckSchemas: Readonly<Record<string, JsonSchema>> = Object.freeze({
  contract: contract as JsonSchema,
  data: data as JsonSchema,
  e2e: e2e as JsonSchema,
  event: event as JsonSchema,
  fault: fault as JsonSchema,
  load: load as JsonSchema,
  migration: migration as JsonSchema,
  race: race as JsonSchema,
  resources: resources as JsonSchema,
  adversarial: adversarial as JsonSchema,
})

/** The published schemas, for editors and for tests of the CLI's JSON output. */
export const schemas = Object.freeze({
  frontmatter: frontmatter as JsonSchema,
  config: config as JsonSchema,
  lintReport: lintReport as JsonSchema,
})
