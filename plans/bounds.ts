/**
 * Numeric bounds a check block states that can never hold, which a JSON Schema of the block cannot
 * express: an assertion `{ gt: 10, lt: 5 }`, and in an inline JSON Schema (a `schema:` object) `minimum`
 * above `maximum`, `minLength` above `maxLength`, a negative length, or a length keyword on a schema whose
 * `type` can have no length. Each is found at its JSON pointer, so lint reports it at file:line:col.
 */
import { join } from './pointer.js'

export interface BoundProblem {
  pointer: string
  message: string
  code: 'impossible-bounds'
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
