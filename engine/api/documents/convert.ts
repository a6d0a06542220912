/**
 * OpenAPI 3.0 Schema Objects → JSON Schema (draft-07) for ajv: `nullable: true` becomes a `null`
 * type (and a `null` enum member), boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers.
 * OpenAPI 3.1 schemas are JSON Schema 2020-12 already and are left as they are.
 */

type Node = Record<string, unknown>

/** A converted deep copy of an OpenAPI 3.0 document (or any part of one). */
export function convertOpenApi30(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(convertOpenApi30)
  if (!value || typeof value !== 'object') return value
  const out: Node = {}
  for (const [key, child] of Object.entries(value)) out[key] = convertOpenApi30(child)
  if (out.nullable === true) {
    delete out.nullable
    if (typeof out.type === 'string') out.type = [out.type, 'null']
    else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null']
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null]
    // `nullable` next to a `$ref` or a composition: null is allowed besides what they allow.
    if (out.type === undefined && (out.$ref !== undefined || out.allOf || out.oneOf || out.anyOf)) {
      const { $ref, ...rest } = out
      const inner: Node = $ref !== undefined ? { $ref } : {}
      for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
        if (rest[key] !== undefined) {
          inner[key] = rest[key]
          delete rest[key]
        }
      }
      return { ...rest, anyOf: [inner, { type: 'null' }] }
    }
  } else if (out.nullable === false) delete out.nullable
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof out[flag] === 'boolean') {
      if (out[flag] === true && typeof out[bound] === 'number') {
        out[flag] = out[bound]
        delete out[bound]
      } else delete out[flag]
    }
  }
  return out
}
