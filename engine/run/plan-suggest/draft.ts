/** A drafted plan: what the model's tool call holds, the checks vigil adds, and the Markdown file it becomes. */
import { stringify } from 'yaml'

export interface DraftCheck {
  kind: string
  name: string
  params: Record<string, unknown>
}

/** The tool's input, once it matched the tool schema. */
export interface Draft {
  name: string
  title: string
  selectionHint: string
  paths?: string[]
  description: string
  covers: string[]
  vars?: Record<string, unknown>
  checks: DraftCheck[]
}

/** Keys a drafted check may not hold anywhere: they run commands or choose an executable. */
const FORBIDDEN_KEYS = new Set(['run', 'engine'])

/** What is wrong with a draft beyond its schema, one problem per line; empty when nothing is. */
export function draftProblems(draft: Draft, existing: readonly string[]): string[] {
  const problems: string[] = []
  if (existing.includes(draft.name)) problems.push(`/name: "${draft.name}" is the name of an existing plan`)
  const names = new Set<string>()
  draft.checks.forEach((check, i) => {
    if (names.has(check.name)) problems.push(`/checks/${i}/name: "${check.name}" is used twice`)
    names.add(check.name)
    for (const at of forbidden(check.params, `/checks/${i}/params`))
      problems.push(`${at}: a drafted plan may not run commands or choose an executable`)
  })
  return problems
}

function forbidden(value: unknown, at: string): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => forbidden(v, `${at}/${i}`))
  if (!value || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([k, v]) =>
    FORBIDDEN_KEYS.has(k) ? [`${at}/${k}`] : forbidden(v, `${at}/${k}`),
  )
}

export interface DraftOrigin {
  model: string
  promptVersion: string
  /** `diff <sha-256 prefix>`, or `no diff`. */
  diffHash: string
  /** One line on the run against the candidate, when it ran. */
  outcome?: string[]
}

/** The plan file: frontmatter, a review note, the description, one section per check. */
export function renderDraft(draft: Draft, origin: DraftOrigin): string {
  const front: Record<string, unknown> = {
    name: draft.name,
    title: draft.title,
    selectionHint: draft.selectionHint,
    ...(draft.paths?.length ? { paths: draft.paths } : {}),
    ...(draft.vars && Object.keys(draft.vars).length ? { vars: draft.vars } : {}),
  }
  const note = [
    `Drafted by vigil plans suggest (${origin.model}, ${origin.promptVersion}, ${origin.diffHash}) for:`,
    ...draft.covers.map((c) => `  - ${c}`),
    ...(origin.outcome ?? []),
    'REVIEW BEFORE ADOPTING: check every request and expectation, then move the file among the plans.',
  ]
  const sections = draft.checks.map(
    (c) => `## ${c.name}\n\n\`\`\`${c.kind} ${c.name}\n${stringify(c.params, { lineWidth: 0 })}\`\`\`\n`,
  )
  return [
    `---\n${stringify(front, { lineWidth: 0 })}---\n`,
    `<!--\n${note.map((l) => l.replaceAll('--', '- -')).join('\n')}\n-->\n`,
    `# ${draft.title}\n`,
    `${draft.description.trim()}\n`,
    ...sections,
  ].join('\n')
}
