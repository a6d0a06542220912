/**
 * Self-contained JSON Schemas for case generation: the schema of a body or parameter with its internal
 * `$ref`s inlined (recursion cut at a depth), and one compiled validator per schema through the contract
 * kind's shared registry, so a mutated value can be judged valid or invalid exactly as ajv sees it.
 */
import { createHash } from 'node:crypto'
import { schemaRegistry, type Dialect } from '../../api/documents/schema.js'
import { get as getPointer } from '../../api/pointer.js'

export type Schema = Record<string, unknown>

/** Past this depth a recursive `$ref` becomes `{}` (anything): generation must terminate. */
const MAX_REF_DEPTH = 8

/** A copy of `schema` whose `#/…` references into `root` are replaced by their targets. */
export function inlineRefs(schema: unknown, root: unknown, depth = 0): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inlineRefs(s, root, depth))
  if (!schema || typeof schema !== 'object') return schema
  const node = schema as Schema
  if (typeof node.$ref === 'string' && node.$ref.startsWith('#')) {
    if (depth >= MAX_REF_DEPTH) return {}
    const target = getPointer(root, decodeURIComponent(node.$ref.slice(1)))
    const { $ref: _ref, ...rest } = node
    const resolved = inlineRefs(target, root, depth + 1)
    if (Object.keys(rest).length === 0) return resolved
    return { allOf: [resolved, inlineRefs(rest, root, depth)] }
  }
  const out: Schema = {}
  for (const [key, value] of Object.entries(node)) {
    // Examples are data, not schemas: copying them verbatim keeps `$ref`-looking strings inert.
    out[key] =
      key === 'example' || key === 'examples' || key === 'const' || key === 'enum'
        ? value
        : inlineRefs(value, root, depth)
  }
  return out
}

/** A validator of a self-contained schema; compiled once per distinct schema for the process. */
export function validatorFor(schema: Schema, dialect: Dialect, label: string): (value: unknown) => boolean {
  const hash = createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 16)
  const doc = schemaRegistry.fromObject(`vigil:adversarial/${dialect}/${hash}`, label, schema, dialect)
  const compiled = schemaRegistry.compile(doc)
  return (value) => compiled.validate(value) === true
}

/** The types a schema allows (`type`, else inferred from its keywords); empty when it says nothing. */
export function schemaTypes(schema: Schema | undefined): string[] {
  if (!schema) return []
  const type = schema.type
  if (typeof type === 'string') return [type]
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string')
  if (schema.properties || schema.required || schema.additionalProperties !== undefined) return ['object']
  if (schema.items) return ['array']
  if (schema.pattern !== undefined || schema.minLength !== undefined || schema.maxLength !== undefined)
    return ['string']
  if (schema.minimum !== undefined || schema.maximum !== undefined) return ['number']
  if (Array.isArray(schema.enum) && schema.enum.length) {
    return [...new Set(schema.enum.map((v) => (v === null ? 'null' : typeof v)))]
  }
  const all = schema.allOf
  if (Array.isArray(all)) return [...new Set(all.flatMap((s) => schemaTypes(s as Schema)))]
  return []
}

/** `allOf` parts folded into one schema (shallow: properties and required lists are merged). */
export function flatten(schema: Schema | undefined): Schema | undefined {
  if (!schema || !Array.isArray(schema.allOf)) return schema
  const { allOf, ...rest } = schema
  let out: Schema = { ...rest }
  for (const part of allOf as Schema[]) {
    const flat = flatten(part) ?? {}
    out = {
      ...flat,
      ...out,
      properties: { ...(flat.properties as Schema), ...(out.properties as Schema) },
      required: [...new Set([...((flat.required as string[]) ?? []), ...((out.required as string[]) ?? [])])],
    }
  }
  if (Object.keys(out.properties as Schema).length === 0) delete out.properties
  if ((out.required as string[]).length === 0) delete out.required
  return out
}
