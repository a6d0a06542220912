/**
 * `start_session` / `stop_session`: start the warm sandboxes before the first `run_plans` with
 * `session: true` (so that call takes only its checks), and stop them when the agent is done.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { guarded, jsonResult, type McpContext } from '../context.js'
import { startSessionOutput, stopSessionOutput } from '../output.js'
import type { McpSessions } from '../session.js'
import { changeShape } from './select.js'

export function registerSessionTools(server: McpServer, ctx: McpContext, sessions: McpSessions): void {
  server.registerTool(
    'start_session',
    {
      title: 'Start a warm validation session',
      description:
        'Start the candidate (the working tree) and the baseline (base, default HEAD) sandboxes and keep ' +
        'them for run_plans calls with session: true, which then restart only the services whose files ' +
        'changed. An idle session is stopped after a while; stop_session stops it at once.',
      inputSchema: {
        base: changeShape.base,
        all: z
          .boolean()
          .optional()
          .describe('also run the load, resources, race, fault and migration checks (deferred by default)'),
      },
      outputSchema: startSessionOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    },
    (args, extra) =>
      guarded('start_session', ctx, async () => {
        const key = { base: args.base ?? 'HEAD', all: args.all ?? false }
        const { session, replaced } = await sessions.get(key)
        const account = await session.start(extra.signal).catch(async (error: unknown) => {
          await sessions.stop()
          throw error
        })
        sessions.touch()
        const pids = session.processes()
        const out = {
          base: key.base,
          all: key.all,
          iterations: session.iteration,
          services: {
            candidate: Object.keys(pids.candidate).sort(),
            baseline: Object.keys(pids.baseline).sort(),
          },
          reused: account.reused,
          rebuilt: [...(replaced ? [{ part: 'session', reason: replaced }] : []), ...account.rebuilt],
          idleTimeoutSeconds: Math.round(ctx.sessionIdleMs / 1000),
        }
        const summary = account.reused.includes('baseline')
          ? `The warm session against ${key.base} was already running.`
          : `Started a warm session against ${key.base}; run_plans with session: true uses it.`
        return jsonResult(out, summary)
      }),
  )
  server.registerTool(
    'stop_session',
    {
      title: 'Stop the warm validation session',
      description: 'Stop the warm sandboxes started by start_session or run_plans with session: true.',
      inputSchema: {},
      outputSchema: stopSessionOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    () =>
      guarded('stop_session', ctx, async () => {
        const running = sessions.describe()
        const stopped = await sessions.stop()
        const out = { stopped, iterations: running?.iterations ?? 0 }
        return jsonResult(out, stopped ? 'Stopped the warm session.' : 'No warm session was running.')
      }),
  )
}
