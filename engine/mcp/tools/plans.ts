/** `list_plans` and `lint_plans`: the catalog an agent chooses from, and whether its plan files are valid. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { formatDiagnostic } from '../../../plans/diagnostics.js'
import { lintReport } from '../../../plans/lint.js'
import type { Plan } from '../../../plans/types.js'
import { listPlansOutput, lintPlansOutput } from '../output.js'
import { guarded, jsonResult, loadCatalog, type McpContext } from '../context.js'

/** What an agent needs to pick and run a plan. */
export function planSummary(plan: Plan) {
  return {
    name: plan.name,
    title: plan.title,
    selectionHint: plan.selectionHint.replace(/\s+/g, ' ').trim(),
    paths: plan.paths,
    tags: plan.tags,
    always: plan.always,
    blocking: plan.blocking,
    file: plan.file,
    checks: plan.checks.map((c) => ({
      name: c.name,
      kind: c.kind,
      line: c.location.line,
      ...(c.blocking === false ? { blocking: false } : {}),
    })),
  }
}

export function registerPlanTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    'list_plans',
    {
      title: 'List validation plans',
      description:
        'The plans of the vigil config: name, title, selection hint (what the plan validates), the paths ' +
        'that always select it, and its checks. Plans with errors are left out and listed under "problems".',
      inputSchema: {
        tag: z.string().min(1).optional().describe('only plans with this tag'),
      },
      outputSchema: listPlansOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ tag }) =>
      guarded('list_plans', ctx, async () => {
        const { result } = await loadCatalog(ctx)
        const plans = result.plans.filter((p) => tag === undefined || p.tags.includes(tag)).map(planSummary)
        const problems = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)
        const lines = plans.map((p) => `${p.name} — ${p.title} [${p.checks.map((c) => c.kind).join(', ')}]`)
        const summary = `${plans.length} plan${plans.length === 1 ? '' : 's'}${tag ? ` tagged ${tag}` : ''}:\n${lines.join('\n')}`
        return jsonResult(
          { plans, problems },
          problems.length ? `${summary}\n\n${problems.join('\n')}` : summary,
        )
      }),
  )

  server.registerTool(
    'lint_plans',
    {
      title: 'Lint plan files',
      description:
        'Check plan files (frontmatter and every check block) and report each problem as file:line:col ' +
        'message. Without paths, the plans of the config. ok is false when any error was found.',
      inputSchema: {
        paths: z
          .array(z.string().min(1))
          .max(200)
          .optional()
          .describe("plan files, folders or globs, relative to the server's working directory"),
      },
      outputSchema: lintPlansOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ paths }) =>
      guarded('lint_plans', ctx, async () => {
        const { result } = await loadCatalog(ctx, paths)
        const report = lintReport(result)
        const summary = report.ok
          ? `${report.files} file(s), ${result.plans.length} plan(s), ${report.warningCount} warning(s), no errors`
          : `${report.errorCount} error(s), ${report.warningCount} warning(s) in ${report.files} file(s)`
        const lines = result.diagnostics.map(formatDiagnostic)
        return jsonResult(report, lines.length ? `${summary}\n${lines.join('\n')}` : summary)
      }),
  )
}
