/**
 * The plan catalog as the \`llm\` prompt shows it, and as the selection record hashes it (every selector, so
 * a record says which catalog it was made from). Its own module: a \`rules\` selection needs the hash and
 * none of the prompt's machinery.
 */
import type { Plan } from '../plans/types.js'

/** One JSON object per plan: unambiguous, and hint text cannot break out of its field. */
export function renderCatalog(plans: readonly Plan[]): string {
  const lines = plans.map((p) => {
    const entry: Record<string, unknown> = { name: p.name, title: p.title, hint: p.selectionHint.trim() }
    if (p.paths.length) entry.paths = p.paths
    if (p.tags.length) entry.tags = p.tags
    if (p.always) entry.always = true
    return JSON.stringify(entry)
  })
  return `<catalog plans="${plans.length}">\n${lines.join('\n')}\n</catalog>`
}
