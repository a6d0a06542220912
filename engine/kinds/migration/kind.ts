/**
 * migration: the rollout gate. The candidate's new migrations are applied to a fresh branch of the
 * baseline's seeded data — timed, their ACCESS EXCLUSIVE locks and table rewrites observed, rows that
 * break new constraints counted — then the **baseline's** services are started against that migrated
 * branch and the block's steps and the plan's checks it names (`checks:`; without steps, the plan's other
 * checks) run there: what the old code does on the new schema while a deploy rolls out, each failure
 * naming the check, the request and the error PostgreSQL logged with its statement. With `rollback: true`
 * the down migrations run next, and the same against the candidate's code.
 */
import { defineCheckKind } from '../../api/kind.js'
import { dataStepMessages } from '../../api/data-steps-schema.js'
import { migrationSchema, type MigrationParams } from './schema.js'

export type { MigrationParams } from './schema.js'

const rollout = Object.fromEntries(
  Object.entries(dataStepMessages).map(([id, text]) => [id, `${text.replace(/\.$/, '')}{{log}}.`]),
)

export default defineCheckKind<MigrationParams, 'http' | 'database'>({
  meta: {
    needs: ['http', 'database'],
    requiresBaseline: true,
    description:
      'The candidate’s migrations on a branch of the baseline’s data, then the baseline’s code on the migrated schema',
    schema: migrationSchema,
    messages: {
      ...rollout,
      applied:
        'Applied {{count}} new migration(s) ({{names}}) to a branch of the baseline’s data in {{time}}.',
      failed:
        'Migration {{migration}} fails on the baseline’s data at line {{line}}: {{statement}} — {{error}}.',
      lock: 'Migration {{migration}}:{{line}} takes an ACCESS EXCLUSIVE lock on {{tables}} (every read and write of it waits): {{statement}}.',
      rewrite:
        'Migration {{migration}}:{{line}} rewrites {{tables}} (held locked while every row is copied): {{statement}}.',
      violation:
        'Constraint {{constraint}} on {{table}} is NOT VALID and {{rows}} existing row(s) break it: {{definition}}.',
      'rollback-failed': 'Rolling back migration {{migration}} fails: {{error}}.',
      'check-failed': 'Check "{{check}}" fails with the {{sandbox}}: {{message}}{{database}}{{log}}.',
      'check-errored': 'Check "{{check}}" could not run with the {{sandbox}}: {{error}}{{database}}{{log}}.',
    },
  },
  run: async (ctx) => (await import('./run.js')).runMigration(ctx),
})
