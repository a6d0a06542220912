/**
 * `run_plans`: run named plans, or a selection record, against a candidate (the working tree, or a copy
 * with a diff or patch applied) and a baseline; returns the verdict. With a progress token the client
 * hears about the sandboxes starting and every check that ends.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import type { Verdict } from '../../verdict.js'
import { didYouMean } from '../../../plans/schema-errors.js'
import { gitLocation, parseSelectionRecord, toVerdictSelection } from '../../../selectors/index.js'
import type { SelectionRecord } from '../../../selectors/index.js'
import { changeOfRecord, resolveChange } from '../../ci/change.js'
import { UsageError } from '../../errors.js'
import { runValidation } from '../../run/run.js'
import type { McpSessions } from '../session.js'
import { runPlansOutput } from '../output.js'
import { guarded, loadCatalog, structuredResult, toolError, type McpContext } from '../context.js'
import { progressReporter, type ProgressSender } from '../progress.js'
import { agentSummary } from '../summary.js'
import { changeShape, changeSpecOf } from './select.js'

export function registerRunTool(server: McpServer, ctx: McpContext, sessions: McpSessions): void {
  server.registerTool(
    'run_plans',
    {
      title: 'Run validation plans',
      description:
        'Run plans against a candidate and a baseline build of the services and return one verdict: ' +
        'pass, fail or error, every check with its findings (request, expected, actual) and a curl ' +
        'command that reproduces each. The text is a short summary (failed checks, one line per finding, ' +
        'its id); the whole verdict is the structured content. Give plans (names) or selection (the record from select_plans). ' +
        'The candidate is the working tree, or a copy with diff (text) or patch (file) applied; with base, ' +
        'the baseline runs from the merge base of that ref. A selection made from a base or patch file ' +
        'reuses it when none is given. Sends progress notifications when the request has a progress token. ' +
        'With session: true the sandboxes stay warm between calls (the baseline, learned noise, connections): ' +
        'later calls restart only the candidate services whose files changed and take about as long as ' +
        'their checks (a service is restarted as soon as you save its files, so the next call finds it running); ' +
        'the session field of the verdict says what was reused and restarted. A session compares the working tree ' +
        'with base (default HEAD) and defers load, resources, race, fault and migration checks unless all is true; ' +
        'with a selection, it also runs again the plans that failed in an earlier call until they pass.',
      inputSchema: {
        plans: z.array(z.string().min(1).max(200)).min(1).max(200).optional().describe('plan names'),
        selection: z
          .record(z.string(), z.unknown())
          .optional()
          .describe('a selection record returned by select_plans'),
        ...changeShape,
        baseline: z
          .boolean()
          .optional()
          .describe('start a baseline too (default true; checks that compare are skipped without one)'),
        session: z
          .boolean()
          .optional()
          .describe(
            'keep the sandboxes warm for the next call (the working tree against base; no diff or patch)',
          ),
        all: z
          .boolean()
          .optional()
          .describe('with session: also run the load, resources, race, fault and migration checks'),
        seed: z
          .number()
          .int()
          .min(0)
          .max(0xffffffff)
          .optional()
          .describe('seed of generated inputs (default 1)'),
      },
      outputSchema: runPlansOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    },
    (args, extra) =>
      guarded('run_plans', ctx, async () => {
        if ((args.plans === undefined) === (args.selection === undefined))
          throw new UsageError('give either plans (names) or selection (a record from select_plans)')
        const { loaded, result } = await loadCatalog(ctx)
        const record: SelectionRecord | undefined =
          args.selection === undefined ? undefined : parseSelectionRecord(args.selection, 'selection')
        const names = args.plans ?? record!.plans.map((p) => p.name)
        const known = result.plans.map((p) => p.name)
        for (const name of names) {
          if (known.includes(name)) continue
          const hint = didYouMean(name, known)
          throw new UsageError(
            `unknown plan "${name}"${hint ? `; did you mean "${hint}"?` : ''} (plans: ${known.join(', ') || 'none'})`,
          )
        }

        const progressToken = extra._meta?.progressToken
        const send: ProgressSender | undefined =
          progressToken === undefined
            ? undefined
            : (params) =>
                extra.sendNotification({
                  method: 'notifications/progress',
                  params: { progressToken, ...params },
                })
        const reporter = progressReporter(send, ctx.log)
        if (args.session) {
          if (args.diff !== undefined || args.patch !== undefined)
            throw new UsageError(
              'a session validates the working tree against base (default HEAD): give base, not diff or patch',
            )
          if (args.baseline === false) throw new UsageError('a session always has a baseline')
          const { session, replaced } = await sessions.get({
            base: args.base ?? 'HEAD',
            all: args.all ?? false,
          })
          if (replaced) ctx.log(replaced)
          reporter.begin()
          try {
            const verdict = await session.iterate({
              ...(record ? { selection: toVerdictSelection(record) } : { planNames: names }),
              ...(args.seed === undefined ? {} : { seed: args.seed }),
              signal: extra.signal,
              reporter,
            })
            return verdictResult(verdict)
          } finally {
            sessions.touch()
          }
        }

        let tempDir: string | undefined
        try {
          if (args.diff !== undefined) tempDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-mcp-'))
          const spec = changeSpecOf(args, () => path.join(tempDir!, 'change.diff'), {
            configDir: loaded.dir,
            cwd: ctx.cwd,
          })
          let run: { runBase?: string; runPatch?: string } = record ? changeOfRecord(record) : {}
          if (spec) {
            const where = await gitLocation(loaded.dir)
            run = await resolveChange(spec, {
              configDir: loaded.dir,
              cwd: ctx.cwd,
              location: where,
            })
            if (spec.kind === 'text') await writeFile(spec.file, spec.text)
          }
          reporter.begin()
          const verdict = await runValidation({
            configPath: loaded.file,
            cwd: ctx.cwd,
            base: run.runBase,
            patch: run.runPatch,
            baseline: args.baseline ?? true,
            ...(record ? { selection: toVerdictSelection(record) } : { planNames: names }),
            seed: args.seed,
            requester: ctx.env.VIGIL_REQUESTER ?? 'mcp',
            env: ctx.env,
            signal: extra.signal,
            log: ctx.log,
            reporter,
          })
          return verdictResult(verdict)
        } finally {
          if (tempDir) await rm(tempDir, { recursive: true, force: true })
        }
      }),
  )
}

/** The verdict as the tool's result; a validation that could not run at all is a failed call. */
function verdictResult(verdict: Verdict): CallToolResult {
  // Nothing ran at all (a patch that does not apply, a sandbox that never started): a failed call.
  if (verdict.status === 'error' && verdict.summary.checks.total === 0) {
    const result = toolError(`run_plans: the validation could not run.\n${agentSummary(verdict)}`)
    result.content.push({ type: 'text', text: JSON.stringify(verdict, null, 2) })
    return result
  }
  return structuredResult(verdict, agentSummary(verdict))
}
