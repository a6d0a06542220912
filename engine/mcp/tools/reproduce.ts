/**
 * `reproduce_finding`: after a run has ended, replay one of its findings — the sides start again from the
 * sources the verdict recorded, the finding's request(s) are sent, and the reply holds both sides'
 * answers, the services' log lines and whether the finding came back.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { UsageError } from '../../errors.js'
import { reproduceFinding } from '../../run/reproduce.js'
import { reproduceOutput } from '../output.js'
import { guarded, jsonResult, type McpContext } from '../context.js'

export function registerReproduceTool(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    'reproduce_finding',
    {
      title: 'Replay one finding of a finished run',
      description:
        "Bring a finished run's candidate and baseline back from the sources its verdict recorded (the same " +
        'patch, the same base commit), send what produced one finding (the e2e steps up to the failing one, ' +
        "the contract request, the adversarial case), and return both answers, the services' log lines for " +
        'each request, what the check reports now, and reproduced: true when the finding came back. Give ' +
        'finding (its id, from the verdict) and either verdict (the verdict run_plans returned) or ' +
        'verdictFile (a verdict JSON file, e.g. .vigil/ci/verdict.json). Everything started is stopped.',
      inputSchema: {
        finding: z
          .string()
          .regex(/^f[0-9a-f]{12}$/)
          .describe('the finding id, e.g. f0123456789ab'),
        verdict: z.record(z.string(), z.unknown()).optional().describe('the verdict run_plans returned'),
        verdictFile: z
          .string()
          .min(1)
          .max(4096)
          .optional()
          .describe('a verdict JSON file, relative to the project'),
      },
      outputSchema: reproduceOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    },
    (args, extra) =>
      guarded('reproduce_finding', ctx, async () => {
        if ((args.verdict === undefined) === (args.verdictFile === undefined))
          throw new UsageError('give either verdict (the object run_plans returned) or verdictFile (a path)')
        const result = await reproduceFinding({
          verdictFile: args.verdictFile ?? 'the given verdict',
          ...(args.verdict !== undefined ? { verdict: args.verdict } : {}),
          findingId: args.finding,
          ...(ctx.configPath !== undefined ? { configPath: ctx.configPath } : {}),
          cwd: ctx.cwd,
          env: ctx.env,
          signal: extra.signal,
          log: ctx.log,
        })
        const summary = `${result.reproduced ? 'REPRODUCED' : 'NOT REPRODUCED'}: ${result.finding.id} ${result.finding.plan} › ${result.finding.check}: ${result.finding.message}; ${result.exchanges.length} requests replayed${result.warnings.length ? `; warnings: ${result.warnings.join('; ')}` : ''}`
        return jsonResult(result, summary)
      }),
  )
}
