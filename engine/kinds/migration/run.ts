/** The migration gate's run: branch, migrate and observe, then the baseline's code on the migrated branch. */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import pg from 'pg'
import { CheckSkipped } from '../../errors.js'
import { databaseOf, runDataSteps } from '../../api/data-steps.js'
import { evidence, formatElapsed } from '../../api/evidence.js'
import type { CheckBlock, Plan } from '../../../plans/types.js'
import type { CheckContext, ReportDescriptor } from '../../api/kind.js'
import type { Sandbox } from '../../api/sandbox.js'
import type { DependencyEndpoint } from '../../api/dependency.js'
import {
  applyCommand,
  applySql,
  findMigrations,
  newMigrations,
  oneLine,
  type MigrationFailure,
} from '../../clients/database/migrations.js'
import { dropDatabaseSql } from '../../clients/database/admin.js'
import { postgresSettings, type PostgresSettings } from '../../clients/database/settings.js'
import { lockObserver, notValidViolations, tableNodes, type StatementReport } from './observe.js'
import type { MigrationParams } from './schema.js'

type MigrationContext = CheckContext<MigrationParams, 'http' | 'database'>

export async function runMigration(ctx: MigrationContext): Promise<void> {
  const { params } = ctx
  const candidate = ctx.sandboxes.candidate
  const baseline = ctx.sandboxes.baseline!
  const db = databaseOf(candidate, params.database)
  const settings = postgresSettings(db)!
  if (!settings.migrations) throw new CheckSkipped(`dependency ${db.name} declares no migrations`)
  const set = findMigrations(settings.roots.candidate, settings.migrations)
  const fresh = newMigrations(findMigrations(settings.roots.baseline, settings.migrations), set)
  if (fresh.length === 0) throw new CheckSkipped('the change adds no migrations; nothing to gate')
  const named = namedChecks(ctx.plan, ctx.check, params)

  // Named after the side's database, so it carries the run's prefix (a kept template's name does not).
  const gate = `${settings.database}_gate${randomBytes(3).toString('hex')}`
  const admin = await connect(settings, 'postgres')
  const strategy = settings.versionNum >= 150000 ? ' STRATEGY = FILE_COPY' : ''
  await admin.query(`CREATE DATABASE "${gate}" TEMPLATE "${settings.template}"${strategy}`)
  const client = await connect(settings, gate).catch(async (error: unknown) => {
    await drop(admin, gate, settings)
    throw error
  })
  try {
    const existing = await tableNodes(client)
    const begin = performance.now()
    let failure: MigrationFailure | undefined
    let statements: StatementReport[] = []
    if (set.command) {
      failure = await applyCommand(
        set.command,
        settings.roots.candidate,
        urlOf(settings, gate),
        ctx.timeoutMs,
        ctx.signal,
      )
      const after = await tableNodes(client)
      const rewrites = [...after].filter(([t, n]) => existing.has(t) && existing.get(t) !== n).map(([t]) => t)
      statements = [
        {
          migration: set.command.join(' '),
          line: 0,
          statement: set.command.join(' '),
          durationMs: 0,
          locks: [],
          rewrites,
        },
      ]
    } else {
      const observer = lockObserver(new Set(existing.keys()))
      failure = await applySql(client, fresh, { observer })
      statements = observer.reports
    }
    const root = settings.roots.candidate
    if (failure) {
      ctx.report({
        messageId: 'failed',
        data: {
          migration: path.relative(root, failure.file) || failure.migration,
          line: failure.line ?? '?',
          statement: oneLine(failure.statement ?? failure.migration),
          error: `${failure.error}${failure.detail ? ` (${failure.detail})` : ''}`,
        },
        ...(failure.output?.length
          ? {
              evidence: evidence({
                transport: 'process',
                summary: [{ label: 'command', value: failure.migration }],
                excerpt: { label: 'output', text: failure.output.join('\n') },
              }),
            }
          : {}),
      })
      return
    }
    ctx.report({
      messageId: 'applied',
      severity: 'info',
      data: {
        count: fresh.length,
        names: fresh.map((f) => f.name).join(', '),
        time: formatElapsed(performance.now() - begin),
      },
    })
    const forbid = new Set(params.forbid ?? [])
    for (const s of statements) {
      const where = { migration: s.migration, line: s.line, statement: oneLine(s.statement) }
      if (s.locks.length > 0)
        ctx.report({
          messageId: 'lock',
          severity: forbid.has('access-exclusive') ? 'error' : 'warning',
          data: { ...where, tables: s.locks.join(', ') },
        })
      if (s.rewrites.length > 0)
        ctx.report({
          messageId: 'rewrite',
          severity: forbid.has('rewrite') ? 'error' : 'warning',
          data: { ...where, tables: s.rewrites.join(', ') },
        })
    }
    for (const v of await notValidViolations(client)) ctx.report({ messageId: 'violation', data: { ...v } })

    const endpoint: DependencyEndpoint = {
      ...db,
      url: urlOf(settings, gate),
      settings: { ...settings, database: gate },
    }
    const rolledOut = await rollout(
      ctx,
      baseline,
      baseline,
      endpoint,
      named,
      'baseline’s code on the migrated schema',
    )
    if (!rolledOut || !params.rollback) return
    const down = await applySql(client, [...fresh].reverse(), { direction: 'down' })
    if (down) {
      ctx.report({ messageId: 'rollback-failed', data: { migration: down.migration, error: down.error } })
      return
    }
    await rollout(ctx, candidate, baseline, endpoint, named, 'candidate’s code after the rollback')
  } finally {
    await client.end().catch(() => undefined)
    await drop(admin, gate, settings)
  }
}

/**
 * Copies of the side's services on the gate's database; the block's steps, then the checks it names, run
 * against them (the checks compared with `original`, the baseline on its own schema). False when one failed.
 */
async function rollout(
  ctx: MigrationContext,
  sandbox: Sandbox,
  original: Sandbox,
  endpoint: DependencyEndpoint,
  named: readonly CheckBlock[],
  label: string,
): Promise<boolean> {
  if (!ctx.isolate)
    throw new Error('the migration gate starts copies of services, which this run does not offer')
  const services = ctx.params.services ?? [sandbox.defaultService]
  const service = ctx.params.service ?? services[0]!
  ctx.progress(`starting ${services.join(', ')} of the ${sandbox.name} on the migrated database`)
  const view = await ctx.isolate(sandbox, services, { deps: { [endpoint.name]: endpoint } })
  let failed = false
  const report = (d: ReportDescriptor): void => {
    failed = true
    ctx.report({ ...d, data: { ...d.data, sandbox: label, log: serviceError(view, service) } })
  }
  if (ctx.params.steps) {
    const outcome = await runDataSteps({ ...ctx, report }, view, endpoint, ctx.params.steps, {
      service,
      ...(ctx.params.headers ? { headers: ctx.params.headers } : {}),
      timeoutMs: Math.max(1_000, ctx.timeoutMs),
    })
    if (!outcome.ok) failed = true
  }
  if (named.length === 0) return !failed
  if (!ctx.runChecks)
    throw new Error('the migration gate runs the checks it names, which this run’s executor does not offer')
  ctx.progress(`running ${named.map((c) => c.name).join(', ')} on the ${label}`)
  const database = (): string[] => view.dependencyLogs?.(endpoint.name) ?? []
  const seen = database().length
  const results = await ctx.runChecks(named, { candidate: view, baseline: original })
  const said = databaseError(database().slice(seen), settingsOf(endpoint).database)
  for (const result of results) {
    const data = { check: result.check, sandbox: label, database: said, log: serviceError(view, service) }
    if (result.state === 'errored') {
      failed = true
      ctx.report({ messageId: 'check-errored', data: { ...data, error: result.error.message } })
    }
    if (result.state !== 'failed') continue
    for (const f of result.findings) {
      if (f.severity === 'info') continue
      if (f.severity === 'error') failed = true
      ctx.report({
        messageId: 'check-failed',
        severity: f.severity,
        data: { ...data, message: f.message.replace(/\.$/, '') },
        ...(f.step !== undefined ? { step: f.step } : {}),
        ...(f.pointer !== undefined ? { pointer: f.pointer } : {}),
        ...(f.expected !== undefined ? { expected: f.expected } : {}),
        ...(f.actual !== undefined ? { actual: f.actual } : {}),
        ...(f.evidence !== undefined ? { evidence: f.evidence } : {}),
      })
    }
  }
  return !failed
}

/** The last line the service logged with "error" in it, as ` — orders logged: …`, or nothing. */
function serviceError(view: Sandbox, service: string): string {
  const errors = view.logs(service).filter((l) => /\berror\b/i.test(l))
  return errors.length ? ` — ${service} logged: ${oneLine(errors[errors.length - 1]!, 240)}` : ''
}

/**
 * The first error PostgreSQL logged for `database` among `lines` (its server's log: the private server
 * prefixes each line with `db=<name>`), with the statement it refused, as ` — PostgreSQL: …`; nothing
 * when there is none (a `url:` server's log is not vigil's to read).
 */
export function databaseError(lines: readonly string[], database: string): string {
  const mark = `db=${database} `
  const at = lines.findIndex((l) => l.includes(`${mark}ERROR:`))
  if (at < 0) return ''
  const error = lines[at]!.slice(lines[at]!.indexOf(`${mark}ERROR:`) + mark.length + 'ERROR:'.length).trim()
  let statement = ''
  const next = lines.findIndex((l, i) => i > at && l.includes(`${mark}STATEMENT:`))
  if (next > at) {
    // A statement on several lines continues on lines that carry no log prefix.
    const parts = [lines[next]!.slice(lines[next]!.indexOf(`${mark}STATEMENT:`) + mark.length + 10)]
    for (const line of lines.slice(next + 1, next + 6)) {
      if (/ db=\S* [A-Z]+:/.test(line)) break
      parts.push(line)
    }
    statement = oneLine(parts.join(' '), 200)
  }
  return ` — PostgreSQL: ${oneLine(error, 200)}${statement ? `, in ${statement}` : ''}`
}

/** The checks the block names (or, without steps, the plan's other checks), found in the plan. */
export function namedChecks(plan: Plan, self: CheckBlock, params: MigrationParams): CheckBlock[] {
  const others = plan.checks.filter((c) => c !== self && c.kind !== self.kind)
  if (!params.checks) return params.steps ? [] : others
  return params.checks.map((name) => {
    const found = plan.checks.find((c) => c.name === name && c !== self)
    if (!found) {
      const names = others.map((c) => `"${c.name}"`).join(', ') || 'none'
      throw new Error(`checks: plan ${plan.name} has no check named "${name}" (its other checks: ${names})`)
    }
    if (found.kind === self.kind)
      throw new Error(`checks: "${name}" is a migration check; the gate runs checks of the other kinds`)
    return found
  })
}

function settingsOf(endpoint: DependencyEndpoint): PostgresSettings {
  return postgresSettings(endpoint)!
}

function urlOf(settings: PostgresSettings, database: string): string {
  const url = new URL(settings.adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

async function connect(settings: PostgresSettings, database: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: urlOf(settings, database),
    connectionTimeoutMillis: 10_000,
  })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

async function drop(admin: pg.Client, gate: string, settings: PostgresSettings): Promise<void> {
  await admin.query(dropDatabaseSql(gate, settings.versionNum)).catch(() => undefined)
  await admin.end().catch(() => undefined)
}
