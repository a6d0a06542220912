/** `json`: the verdict as is, pretty-printed, with the schema's id; for agents, scripts and archives. */
import type { Verdict } from '../engine/verdict.js'
import { writeDocument } from './output.js'
import { VERDICT_SCHEMA_ID } from './schema.js'
import type { ReporterFactory } from './types.js'

/** The verdict as a JSON document (two-space indent, trailing newline) that validates against the schema. */
export function renderJson(verdict: Verdict): string {
  // `$schema` first so that editors and readers see what the document is; the rest in the verdict's order.
  const { $schema: _ignored, ...rest } = verdict as Verdict & { $schema?: string }
  return `${JSON.stringify({ $schema: VERDICT_SCHEMA_ID, ...rest }, null, 2)}\n`
}

export const json: ReporterFactory = {
  description: 'the verdict as JSON (its schema: reporters/schema/verdict.json); stdout unless json:FILE',
  defaultTarget: () => 'stdout',
  create: ({ target }) => ({
    onRunEnd: (verdict) => writeDocument(target, renderJson(verdict)),
  }),
}
