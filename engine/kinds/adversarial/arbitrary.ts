/**
 * fast-check arbitraries for values a JSON Schema accepts — the generated valid bodies and parameters,
 * and the "wrong type" values that a schema does not accept. Bounded on purpose: arrays hold a few
 * elements and strings a few dozen characters, so generation never dominates the time of a request.
 */
import fc from 'fast-check'
import { flatten, schemaTypes, type Schema } from './schemas.js'

const MAX_DEPTH = 5

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

function stringArb(schema: Schema): fc.Arbitrary<string> {
  const min = num(schema.minLength) ?? 0
  const max = Math.min(num(schema.maxLength) ?? min + 24, min + 24)
  if (typeof schema.pattern === 'string') {
    try {
      const pattern = new RegExp(schema.pattern, 'u')
      return fc
        .stringMatching(pattern)
        .filter((s) => s.length >= min && s.length <= (num(schema.maxLength) ?? Infinity))
    } catch {
      // A pattern JavaScript cannot compile: fall through to plain strings (ajv will judge them).
    }
  }
  switch (schema.format) {
    case 'date-time':
      return fc
        .date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2099-12-31T23:59:59Z'),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString())
    case 'date':
      return fc
        .date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2099-12-31T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString().slice(0, 10))
    case 'email':
      return fc.emailAddress()
    case 'uuid':
      return fc.uuid()
    case 'uri':
    case 'url':
      return fc.webUrl()
    default:
      return fc.string({ minLength: min, maxLength: Math.max(min, max) })
  }
}

function numberArb(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  let min = num(schema.minimum) ?? num(schema.exclusiveMinimum)
  let max = num(schema.maximum) ?? num(schema.exclusiveMaximum)
  if (integer) {
    if (num(schema.exclusiveMinimum) !== undefined && schema.minimum === undefined) min = Math.floor(min!) + 1
    if (num(schema.exclusiveMaximum) !== undefined && schema.maximum === undefined) max = Math.ceil(max!) - 1
    const lo = Math.ceil(min ?? (max !== undefined ? max - 1000 : -1000))
    const hi = Math.floor(max ?? lo + 2000)
    return fc.integer({
      min: Math.max(lo, Number.MIN_SAFE_INTEGER),
      max: Math.min(Math.max(lo, hi), Number.MAX_SAFE_INTEGER),
    })
  }
  return fc.double({
    min: min ?? -1e6,
    max: max ?? (min ?? -1e6) + 2e6,
    noNaN: true,
    noDefaultInfinity: true,
    minExcluded: schema.exclusiveMinimum !== undefined,
    maxExcluded: schema.exclusiveMaximum !== undefined,
  })
}

/** Values the schema is meant to accept (ajv has the last word: generation may still miss a rule). */
export function validArb(input: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const schema = flatten(input)
  if (!schema || Object.keys(schema).length === 0)
    return fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean())
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (Array.isArray(schema.enum) && schema.enum.length) return fc.constantFrom(...schema.enum)
  for (const key of ['oneOf', 'anyOf'] as const) {
    const options = schema[key]
    if (Array.isArray(options) && options.length) {
      return fc.oneof(
        ...options.map((o) => validArb({ ...schema, [key]: undefined, ...(o as Schema) }, depth + 1)),
      )
    }
  }
  const types = schemaTypes(schema)
  const type = types.find((t) => t !== 'null') ?? types[0] ?? 'string'
  switch (type) {
    case 'string':
      return stringArb(schema)
    case 'integer':
      return numberArb(schema, true)
    case 'number':
      return numberArb(schema, false)
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array': {
      const min = num(schema.minItems) ?? 0
      const max = Math.min(num(schema.maxItems) ?? min + 3, min + 3)
      const items =
        depth >= MAX_DEPTH ? fc.constant(null) : validArb(schema.items as Schema | undefined, depth + 1)
      return fc.array(items, { minLength: min, maxLength: Math.max(min, max) })
    }
    default: {
      const properties = (schema.properties ?? {}) as Record<string, Schema>
      const required = ((schema.required as string[] | undefined) ?? []).filter((k) => k in properties)
      // Deep down only the required fields, so recursive schemas stay small.
      const keys = depth >= MAX_DEPTH ? required : Object.keys(properties)
      const shape = Object.fromEntries(keys.map((k) => [k, validArb(properties[k], depth + 1)]))
      return fc.record(shape, { requiredKeys: required })
    }
  }
}

const BY_TYPE: Record<string, fc.Arbitrary<unknown>> = {
  string: fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom('0', 'true', 'null', '[]', '{}')),
  integer: fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1)),
  number: fc.double({ noNaN: true, noDefaultInfinity: true }),
  boolean: fc.boolean(),
  null: fc.constant(null),
  array: fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxLength: 3 }),
  object: fc.dictionary(
    fc.string({ minLength: 1, maxLength: 6 }),
    fc.oneof(fc.integer(), fc.string({ maxLength: 4 })),
    { maxKeys: 2 },
  ),
}

/** Values of another JSON type than the schema allows (`integer` also rules out fractional numbers only). */
export function wrongTypeArb(schema: Schema | undefined): fc.Arbitrary<unknown> {
  const allowed = new Set(schemaTypes(schema))
  if (allowed.has('number')) allowed.add('integer')
  const others = Object.keys(BY_TYPE).filter((t) => !allowed.has(t))
  if (allowed.has('integer') && !allowed.has('number'))
    return fc.oneof(...others.map((t) => BY_TYPE[t]!), fc.constantFrom(1.5, -0.25))
  return fc.oneof(...others.map((t) => BY_TYPE[t]!))
}
