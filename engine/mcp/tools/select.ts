/** `select_plans`: which plans apply to a change, each with its reason — the selection record. */
import path from 'node:path'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { gitLocation, SELECTOR_NAMES } from '../../../selectors/index.js'
import type { SelectionRecord } from '../../../selectors/index.js'
import { renderSelection } from '../../../selectors/render.js'
import { resolveChange, type ChangeSpec } from '../../ci/change.js'
import { selectChange } from '../../ci/selection.js'
import { selectionCoverage } from '../../run/coverage.js'
import { UsageError } from '../../errors.js'
import { selectPlansOutput } from '../output.js'
import { guarded, jsonResult, loadCatalog, type McpContext } from '../context.js'

/** Inline diffs above this size are refused: a change that large is better read from git (`base`). */
export const MAX_DIFF_BYTES = 8 << 20

/** The three ways to name a change; the tools take exactly one. */
export const changeShape = {
  diff: z
    .string()
    .max(MAX_DIFF_BYTES)
    .optional()
    .describe('unified diff text (git diff output), paths relative to the config folder or the repository'),
  base: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^-\s]/, 'a git ref cannot start with "-" or a space')
    .optional()
    .describe('git ref: the working tree is compared with the merge base of this ref and HEAD'),
  patch: z
    .string()
    .min(1)
    .optional()
    .describe(
      "patch file, relative to the config's folder (like the paths inside it); an absolute path works too",
    ),
}

export interface ChangeArgs {
  diff?: string | undefined
  base?: string | undefined
  patch?: string | undefined
}

/**
 * The change named by the arguments; `diffFile` is where inline diff text was written for `git apply`. A
 * patch file is resolved against the config's folder, as the paths it holds are, and named relative to
 * the server's working folder (`cwd`), where the run reads it.
 */
export function changeSpecOf(
  args: ChangeArgs,
  diffFile: () => string,
  where: { configDir: string; cwd: string },
): ChangeSpec | undefined {
  const given = (['diff', 'base', 'patch'] as const).filter((k) => args[k] !== undefined)
  if (given.length > 1) throw new UsageError(`give one of diff, base or patch, not ${given.join(' and ')}`)
  // Empty diff text is a change with no files (legal); text that is not a diff is refused by resolveChange.
  if (args.diff !== undefined) return { kind: 'text', text: args.diff, file: diffFile() }
  if (args.base !== undefined) return { kind: 'base', ref: args.base }
  if (args.patch !== undefined) {
    const file = path.relative(where.cwd, path.resolve(where.configDir, args.patch)) || '.'
    return { kind: 'patch', file: path.isAbsolute(args.patch) ? args.patch : file }
  }
  return undefined
}

export function registerSelectTool(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    'select_plans',
    {
      title: 'Select the plans a change needs',
      description:
        'Which validation plans apply to a change, each with its source (paths, always, rules, llm) and ' +
        'reason, and the changed code and API operations no plan covers. Give exactly one of diff (text), ' +
        'base (git ref) or patch (file). Returns the selection ' +
        'record; pass it to run_plans as "selection" together with the same diff, base or patch.',
      inputSchema: {
        ...changeShape,
        selector: z
          .enum(SELECTOR_NAMES as [string, ...string[]])
          .optional()
          .describe('hybrid | llm | rules (default: hybrid with an API key, else rules)'),
      },
      outputSchema: selectPlansOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (args, extra) =>
      guarded('select_plans', ctx, async () => {
        const { loaded } = await loadCatalog(ctx)
        const spec = changeSpecOf(args, () => 'inline.diff', { configDir: loaded.dir, cwd: ctx.cwd })
        if (!spec)
          throw new UsageError('give one of diff (unified diff text), base (git ref) or patch (file)')
        const { record, coverage } = await selectFor(ctx, spec, args.selector, extra.signal)
        return jsonResult(record, renderSelection(record) + (coverage ? `\nCoverage: ${coverage}.\n` : ''))
      }),
  )
}

/** Reads the change and selects its plans against the current catalog. */
export async function selectFor(
  ctx: McpContext,
  spec: ChangeSpec,
  selector: string | undefined,
  signal?: AbortSignal,
): Promise<{ record: SelectionRecord; coverage?: string }> {
  const { loaded, result } = await loadCatalog(ctx)
  const where = await gitLocation(loaded.dir)
  const change = await resolveChange(spec, {
    configDir: loaded.dir,
    cwd: ctx.cwd,
    location: where,
  })
  const record = await selectChange({
    loaded,
    plans: result.plans,
    change,
    flags: selector === undefined ? {} : { selector },
    env: ctx.env,
    cwd: ctx.cwd,
    ...(signal ? { signal } : {}),
  })
  const coverage = await selectionCoverage(loaded, change.diff, record, ctx.cwd)
  return { record, ...(coverage ? { coverage } : {}) }
}
