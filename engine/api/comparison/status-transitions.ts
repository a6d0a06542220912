/**
 * Declared status transitions: a status that changed between the baseline and the candidate is
 * breaking, unless the plan accepts that transition (`allowStatus: ['404->400']`) — a fix such as
 * answering a malformed body with 400 instead of 404. Every kind that compares statuses with the
 * baseline reads the same words, validated when plans load.
 */

/** One side of a transition: a code (`404`) or a class (`4xx`). */
const SIDE = '[1-5](?:[0-9]{2}|[xX]{2})'
const TRANSITION = new RegExp(`^\\s*(${SIDE})\\s*->\\s*(${SIDE})\\s*$`)

/** JSON Schema of an `allowStatus` list; a malformed entry is a `file:line:col` lint error at the entry. */
export const allowStatusSchema = {
  description:
    "Status changes from the baseline to the candidate that are accepted, as 'FROM->TO': '404->400', '5xx->503'.",
  type: 'array',
  items: {
    type: 'string',
    pattern: TRANSITION.source,
    'x-pattern':
      "must be a status transition 'FROM->TO' of codes or classes, such as '404->400' or '5xx->503'",
    'x-pattern-code': 'invalid-status-transition',
  },
}

export interface StatusTransition {
  /** `404` or `4XX`. */
  from: string
  to: string
  /** As the plan wrote it, trimmed. */
  text: string
}

/** `'404->400'` → `{ from: '404', to: '400' }`; undefined when it is not a transition (the schema refuses it first). */
export function parseTransition(text: string): StatusTransition | undefined {
  const match = TRANSITION.exec(text)
  if (!match) return undefined
  return { from: match[1]!.toUpperCase(), to: match[2]!.toUpperCase(), text: text.trim() }
}

function sideMatches(side: string, status: number): boolean {
  return side.endsWith('XX') ? String(status)[0] === side[0] : String(status) === side
}

/** The first declared transition that accepts `baseline → candidate`, if any. */
export function acceptedTransition(
  transitions: readonly StatusTransition[],
  baseline: number,
  candidate: number,
): StatusTransition | undefined {
  return transitions.find((t) => sideMatches(t.from, baseline) && sideMatches(t.to, candidate))
}

/**
 * The YAML that accepts this change: the whole `compare` mapping when the check wrote `compare: baseline`
 * (or `true`), else the `allowStatus` entry to put in its `compare:` mapping, with those already declared.
 */
export function acceptanceYaml(
  baseline: number,
  candidate: number,
  options: { declared?: readonly StatusTransition[]; mapping?: boolean } = {},
): string {
  const list = [...(options.declared ?? []).map((t) => t.text), `${baseline}->${candidate}`]
  const entry = `allowStatus: [${list.map((t) => `'${t}'`).join(', ')}]`
  return options.mapping ? entry : `compare: { ${entry} }`
}
