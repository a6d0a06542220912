/**
 * Numeric bounds a check block states that can never hold, which a JSON Schema of the block cannot
 * express: an assertion `{ gt: 10, lt: 5 }`, and in an inline JSON Schema (a `schema:` object) `minimum`
 * above `maximum`, `minLength` above `maxLength`, a negative length, or a length keyword on a schema whose
 * `type` can have no length; the same bounds, and patterns that do not compile, in the schema documents a
 * plan reads. Each is found at its JSON pointer, so lint reports it at file:line:col.
 */
import { join } from './pointer.js'

export interface BoundProblem {
  pointer: string
  message: string
  code: 'impossible-bounds' | 'invalid-regex'
}

const PAIRS = [
  ['minimum', 'maximum', 'value'],
  ['exclusiveMinimum', 'exclusiveMaximum', 'value'],
  ['minLength', 'maxLength', 'length'],
  ['minItems', 'maxItems', 'item count'],
  ['minProperties', 'maxProperties', 'property count'],
] as const
const LENGTHS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties']
/** Which `type` each length keyword applies to. */
const APPLIES: Record<string, string> = {
  minLength: 'string',
  maxLength: 'string',
  minItems: 'array',
  maxItems: 'array',
  minProperties: 'object',
  maxProperties: 'object',
}

/** Every impossible bound in a parsed block, depth first. */
export function boundProblems(value: unknown, pointer = ''): BoundProblem[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => boundProblems(v, join(pointer, i)))
  if (value === null || typeof value !== 'object') return []
  const node = value as Record<string, unknown>
  const problems = [...operatorBounds(node, pointer), ...schemaBounds(node, pointer)]
  for (const [key, inner] of Object.entries(node)) problems.push(...boundProblems(inner, join(pointer, key)))
  return problems
}

/** Keywords whose values are data, not schemas: a `minimum` inside an example is not a rule. */
const DATA_KEYWORDS = new Set(['example', 'examples', 'enum', 'const', 'default'])
/** Keywords whose values map names to schemas: there, a child called `example` is a schema all the same. */
const SCHEMA_MAPS = new Set([
  'properties',
  'patternProperties',
  'definitions',
  '$defs',
  'dependentSchemas',
  'schemas',
])

/**
 * Every impossible bound and every pattern that does not compile in a schema document a plan reads (a JSON
 * Schema file, an OpenAPI or AsyncAPI document), depth first. Examples, enums, defaults and `x-` extensions
 * are data and are not searched. Patterns are compiled as Ajv compiles them, as Unicode regular expressions.
 */
export function documentProblems(value: unknown, pointer = '', named = false): BoundProblem[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => documentProblems(v, join(pointer, i)))
  if (value === null || typeof value !== 'object') return []
  const node = value as Record<string, unknown>
  // A map of names to schemas is not a schema itself: its keys are names, not keywords.
  const problems = named ? [] : [...schemaBounds(node, pointer), ...patternProblems(node, pointer)]
  for (const [key, inner] of Object.entries(node)) {
    if (!named && (DATA_KEYWORDS.has(key) || key.startsWith('x-'))) continue
    problems.push(...documentProblems(inner, join(pointer, key), !named && SCHEMA_MAPS.has(key)))
  }
  return problems
}

function patternProblems(node: Record<string, unknown>, pointer: string): BoundProblem[] {
  const problems: BoundProblem[] = []
  const check = (pattern: string, at: string, what: string) => {
    const reason = regexProblem(pattern)
    if (reason)
      problems.push({
        pointer: at,
        code: 'invalid-regex',
        message: `${what} ${JSON.stringify(pattern)} is not a valid regular expression: ${reason}`,
      })
  }
  if (typeof node.pattern === 'string') check(node.pattern, join(pointer, 'pattern'), 'pattern')
  const patterned = node.patternProperties
  if (patterned !== null && typeof patterned === 'object' && !Array.isArray(patterned))
    for (const key of Object.keys(patterned))
      check(key, join(join(pointer, 'patternProperties'), key), 'patternProperties key')
  return problems
}

/** Why `pattern` does not compile as a Unicode regular expression (`Unterminated group`), or undefined. */
function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u')
    return undefined
  } catch (error) {
    // `Invalid regular expression: /(/u: Unterminated group`: the pattern is already in the message.
    return (error as Error).message.replace(/^.*: /, '')
  }
}

/** `{ gt: 10, lt: 5 }`: no value is both. */
function operatorBounds(node: Record<string, unknown>, pointer: string): BoundProblem[] {
  const low = (['gt', 'gte'] as const).find((k) => typeof node[k] === 'number')
  const high = (['lt', 'lte'] as const).find((k) => typeof node[k] === 'number')
  if (!low || !high) return []
  const a = node[low] as number
  const b = node[high] as number
  const empty = low === 'gte' && high === 'lte' ? a > b : a >= b
  if (!empty) return []
  return [
    {
      pointer: join(pointer, low),
      code: 'impossible-bounds',
      message: `${low}: ${a} and ${high}: ${b} leave no value that passes; swap them or fix one`,
    },
  ]
}

function schemaBounds(node: Record<string, unknown>, pointer: string): BoundProblem[] {
  const problems: BoundProblem[] = []
  for (const [min, max, what] of PAIRS) {
    const a = node[min]
    const b = node[max]
    if (typeof a === 'number' && typeof b === 'number' && a > b)
      problems.push({
        pointer: join(pointer, min),
        code: 'impossible-bounds',
        message: `${min} ${a} is above ${max} ${b}: no ${what} is allowed; swap them or fix one`,
      })
  }
  for (const key of LENGTHS) {
    const n = node[key]
    if (typeof n === 'number' && n < 0)
      problems.push({
        pointer: join(pointer, key),
        code: 'impossible-bounds',
        message: `${key} ${n} is negative; a length or count is 0 or more`,
      })
  }
  const types = typeof node.type === 'string' ? [node.type] : Array.isArray(node.type) ? node.type : undefined
  if (types?.every((t) => typeof t === 'string')) {
    for (const key of LENGTHS) {
      if (node[key] === undefined || types.includes(APPLIES[key]!)) continue
      problems.push({
        pointer: join(pointer, key),
        code: 'impossible-bounds',
        message: `${key} applies to ${APPLIES[key]}s, and this schema's type is ${types.join(' or ')}: it is never checked; ${types.includes('number') || types.includes('integer') ? 'use minimum/maximum' : 'remove it'}`,
      })
    }
  }
  return problems
}
