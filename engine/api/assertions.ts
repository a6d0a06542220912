/**
 * Assertions on values, shared by check kinds: a plain value means deep `equals`; an object whose
 * keys are all operators applies each (`{ gte: 1, lt: 10 }`). Every operator is correct on falsy
 * values (`equals: 0`, `equals: false`, `equals: null`) and tells a missing value from `null`.
 */
import type { JsonSchema } from '../../plans/types.js'
import type { Selection } from './json-select.js'

export const OPERATORS = [
  'equals',
  'notEquals',
  'exists',
  'type',
  'matches',
  'contains',
  'gt',
  'gte',
  'lt',
  'lte',
  'oneOf',
  'length',
  'maxMs',
] as const
export type Operator = (typeof OPERATORS)[number]

const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS)
export const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'array', 'object'] as const

/** One assertion that did not hold. */
export interface AssertionFailure {
  operator: Operator
  expected: unknown
  /** The actual value; `undefined` when it was missing. */
  actual: unknown
  /** e.g. `expected > 0, got -1`. */
  message: string
}

/** Schema for the operator form only, for kinds that want to lint operator names strictly. */
export const operatorsSchema: JsonSchema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: {
    equals: {},
    notEquals: {},
    exists: { type: 'boolean' },
    type: {
      anyOf: [{ enum: [...JSON_TYPES] }, { type: 'array', items: { enum: [...JSON_TYPES] }, minItems: 1 }],
    },
    matches: { type: 'string', format: 'regex' },
    contains: {},
    gt: { type: ['number', 'string'] },
    gte: { type: ['number', 'string'] },
    lt: { type: ['number', 'string'] },
    lte: { type: ['number', 'string'] },
    oneOf: { type: 'array' },
    length: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'object' }] },
    maxMs: { type: 'number', minimum: 0 },
  },
}

/**
 * JSON Schema of an assertion: any value (deep equals), or an object of operators. An object whose keys
 * are all operators is read as operators at run time (see isOperatorObject), so it is validated as such
 * when plans load: `{ type: strng }` or `{ matches: '(' }` is a plan error, not a failed check.
 */
export const assertionSchema: JsonSchema = {
  description: 'A value (deep equals) or an object of operators: ' + OPERATORS.join(', '),
  if: { type: 'object', minProperties: 1, propertyNames: { enum: [...OPERATORS] } },
  then: operatorsSchema,
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** True for `{ gt: 1 }`-style objects (every key an operator), which are not compared literally. */
export function isOperatorObject(value: unknown): value is Partial<Record<Operator, unknown>> {
  if (!isPlainObject(value)) return false
  const keys = Object.keys(value)
  return keys.length > 0 && keys.every((k) => OPERATOR_SET.has(k))
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b) || a === b) return true
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]))
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a)
    if (ka.length !== Object.keys(b).length) return false
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
  }
  return false
}

/** `expected` is contained in `actual`: objects by subset, everything else by deep equality. */
function partialMatch(actual: unknown, expected: unknown): boolean {
  if (isPlainObject(expected) && isPlainObject(actual)) {
    return Object.entries(expected).every(([k, v]) => Object.hasOwn(actual, k) && partialMatch(actual[k], v))
  }
  return deepEqual(actual, expected)
}

export function jsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** Short JSON rendering for messages. */
export function formatValue(value: unknown, max = 120): string {
  if (value === undefined) return 'nothing'
  let text: string
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value))
  } catch {
    text = String(value)
  }
  return text.length > max ? text.slice(0, max - 1) + '…' : text
}

/** `"/^ab/i"` → /^ab/i; any other string is a pattern without flags. */
export function toRegExp(pattern: string): RegExp {
  const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(pattern)
  return literal ? new RegExp(literal[1]!, literal[2]) : new RegExp(pattern)
}

function typeMatches(value: unknown, type: string): boolean {
  if (type === 'integer') return Number.isInteger(value)
  return jsonType(value) === type
}

function compareOrder(actual: unknown, expected: unknown): number | undefined {
  if (typeof actual === 'number' && typeof expected === 'number') return actual - expected
  if (typeof actual === 'string' && typeof expected === 'string')
    return actual < expected ? -1 : actual > expected ? 1 : 0
  return undefined
}

const ORDER: Record<string, [string, (d: number) => boolean]> = {
  gt: ['>', (d) => d > 0],
  gte: ['>=', (d) => d >= 0],
  lt: ['<', (d) => d < 0],
  lte: ['<=', (d) => d <= 0],
  maxMs: ['<=', (d) => d <= 0],
}

function sizeOf(value: unknown): number | undefined {
  if (typeof value === 'string' || Array.isArray(value)) return value.length
  if (isPlainObject(value)) return Object.keys(value).length
  return undefined
}

function applyOperator(op: Operator, expected: unknown, actual: Selection): AssertionFailure[] {
  const fail = (message: string, actualValue: unknown = actual.found ? actual.value : undefined) => [
    { operator: op, expected, actual: actualValue, message },
  ]
  if (op === 'exists') {
    if (expected === false)
      return actual.found ? fail(`expected nothing, got ${formatValue(actual.value)}`) : []
    return actual.found ? [] : fail('expected a value, got nothing')
  }
  if (!actual.found) return fail(`expected ${describe(op, expected)}, got nothing`)
  const value = actual.value
  const got = `got ${formatValue(value)}`
  switch (op) {
    case 'equals':
      return deepEqual(value, expected) ? [] : fail(`expected ${formatValue(expected)}, ${got}`)
    case 'notEquals':
      return deepEqual(value, expected) ? fail(`expected anything but ${formatValue(expected)}, ${got}`) : []
    case 'type': {
      const types = Array.isArray(expected) ? (expected as string[]) : [String(expected)]
      return types.some((t) => typeMatches(value, t))
        ? []
        : fail(`expected type ${types.join(' | ')}, got ${jsonType(value)}`)
    }
    case 'matches': {
      const ok =
        (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') &&
        toRegExp(String(expected)).test(String(value))
      return ok ? [] : fail(`expected to match ${String(expected)}, ${got}`)
    }
    case 'contains': {
      const ok =
        typeof value === 'string'
          ? value.includes(typeof expected === 'string' ? expected : formatValue(expected, Infinity))
          : Array.isArray(value)
            ? value.some((element) => partialMatch(element, expected))
            : partialMatch(value, expected)
      return ok ? [] : fail(`expected to contain ${formatValue(expected)}, ${got}`)
    }
    case 'oneOf': {
      const options = Array.isArray(expected) ? expected : [expected]
      return options.some((o) => deepEqual(value, o))
        ? []
        : fail(`expected one of ${formatValue(options)}, ${got}`)
    }
    case 'length': {
      const size = sizeOf(value)
      if (size === undefined) return fail(`expected a string, array or object with a length, ${got}`)
      return checkAssertion({ found: true, value: size }, expected).map((f) => ({
        ...f,
        operator: 'length' as const,
        expected,
        actual: size,
        message: `length: ${f.message}`,
      }))
    }
    default: {
      const [symbol, holds] = ORDER[op]!
      const diff = compareOrder(value, expected)
      if (diff === undefined)
        return fail(`expected a value ${symbol} ${formatValue(expected)}, ${got} (not comparable)`)
      return holds(diff) ? [] : fail(`expected ${symbol} ${formatValue(expected)}, ${got}`)
    }
  }
}

function describe(op: Operator, expected: unknown): string {
  if (op === 'equals') return formatValue(expected)
  if (op in ORDER) return `${ORDER[op]![0]} ${formatValue(expected)}`
  if (op === 'matches') return `to match ${String(expected)}`
  if (op === 'contains') return `to contain ${formatValue(expected)}`
  if (op === 'oneOf') return `one of ${formatValue(expected)}`
  if (op === 'notEquals') return `anything but ${formatValue(expected)}`
  if (op === 'type') return `type ${Array.isArray(expected) ? expected.join(' | ') : String(expected)}`
  return `${op} ${formatValue(expected)}`
}

/**
 * Checks a selected value against an assertion; returns the failures (empty when it holds).
 * A plain value (not an operator object) means deep `equals`.
 */
export function checkAssertion(actual: Selection, assertion: unknown): AssertionFailure[] {
  if (!isOperatorObject(assertion)) return applyOperator('equals', assertion, actual)
  const failures: AssertionFailure[] = []
  for (const op of OPERATORS) {
    if (Object.hasOwn(assertion, op)) failures.push(...applyOperator(op, assertion[op], actual))
  }
  return failures
}
