/**
 * Lint of `{{variables}}` in a check block: every placeholder must name something that can define it when
 * the check runs — a plan var, a capture of an earlier step (or of the block's `setup`, which runs first),
 * `{{baseUrl}}`, `{{seed}}`, `{{index}}` and `{{round}}` (of repeated requests), or a namespaced name: `env.NAME` (allow-listed in the config's `env`),
 * `secrets.NAME` (declared in `secrets`), `services.NAME.url` (a sandbox service). A misspelt `{{emial}}`
 * is then a plan error at its line, not a run that errors half way.
 */
import { closest, distance } from 'fastest-levenshtein'
import { join } from './pointer.js'

/** Names the config defines; a namespace left undefined is not checked (no config, or a config without it). */
export interface KnownNames {
  /** `env:` of the config: the variables plans may read as `{{env.NAME}}`. */
  env?: readonly string[]
  /** Names of `secrets:`. */
  secrets?: readonly string[]
  /** Names of the sandbox's services. */
  services?: readonly string[]
}

/** One placeholder that names nothing, at the JSON pointer of the string holding it. */
export interface VariableProblem {
  pointer: string
  message: string
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g
// `index` and `round` number the copies of a repeated request (race, resources); the kinds that repeat set
// them, and any other kind leaves them unset, so a stray `{{index}}` still errors when its check runs.
const BUILTINS = ['baseUrl', 'seed', 'index', 'round']

/** The placeholders of `params` that name no variable, in document order. */
export function unknownVariables(
  params: unknown,
  planVars: readonly string[],
  known: KnownNames = {},
): VariableProblem[] {
  const defined = new Set([...BUILTINS, ...planVars])
  // `setup` runs before everything else of its block, wherever the author wrote it.
  const setup = isObject(params) ? params.setup : undefined
  if (Array.isArray(setup)) for (const step of setup) addCaptures(step, defined)
  const problems: VariableProblem[] = []
  const visit = (node: unknown, pointer: string): void => {
    if (typeof node === 'string') {
      for (const m of node.includes('{{') ? node.matchAll(PLACEHOLDER) : []) {
        const message = problem(m[1]!, defined, known)
        if (message) problems.push({ pointer, message })
      }
      return
    }
    if (Array.isArray(node)) {
      node.forEach((child, i) => visit(child, join(pointer, String(i))))
      return
    }
    if (!isObject(node)) return
    // What a step captures (JSON pointers into its response) is usable by the steps after it.
    for (const [key, child] of Object.entries(node)) if (key !== 'capture') visit(child, join(pointer, key))
    addCaptures(node, defined)
  }
  visit(params, '')
  return problems
}

function addCaptures(step: unknown, defined: Set<string>): void {
  const capture = isObject(step) ? step.capture : undefined
  if (isObject(capture)) for (const name of Object.keys(capture)) defined.add(name)
}

function problem(expr: string, defined: ReadonlySet<string>, known: KnownNames): string | undefined {
  const [head = '', ...rest] = expr.split('.')
  const namespace = { env: known.env, secrets: known.secrets, services: known.services }[head]
  if (head === 'env' || head === 'secrets' || head === 'services') {
    const name = rest[0] ?? ''
    if (namespace === undefined || namespace.includes(name)) return undefined
    const where = {
      env: "the config's env allow-list",
      secrets: "the config's secrets",
      services: "the sandbox's services",
    }[head]
    return `{{${expr}}}: "${name}" is not in ${where}${suggest(name, namespace, `${head}.`)}`
  }
  if (defined.has(head)) return undefined
  const names = [...defined]
  return (
    `{{${expr}}}: variable "${head}" is not defined${suggest(head, names, '')}; ` +
    "define it in the plan's vars, capture it in an earlier step, or use env., secrets. or services."
  )
}

function suggest(name: string, names: readonly string[], prefix: string): string {
  if (names.length === 0) return ' (none are declared)'
  const near = closest(name, [...names])
  return near && near.length > 0 && distanceOk(name, near) ? ` (did you mean {{${prefix}${near}}}?)` : ''
}

/** A suggestion is offered within a third of the name's length: 2 edits (a swap: emial), at most 3. */
function distanceOk(name: string, near: string): boolean {
  const d = distance(name, near)
  return d < name.length && d <= Math.min(3, Math.max(2, Math.ceil(name.length / 3)))
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
