/**
 * Where a case can put a hostile value: every place of the valid body (walked alongside its schema) and
 * every path and query parameter. Also the copy-on-write edit of a body at a JSON pointer, and its
 * serialization with raw JSON fragments (numbers and nesting JSON.stringify cannot write).
 */
import { join, split } from '../../api/pointer.js'
import { RawJson } from './catalog.js'
import { flatten, type Schema } from './schemas.js'
import type { ParamSpec } from './targets.js'

export interface BodySite {
  on: 'body'
  pointer: string
  schema?: Schema
  /** The valid body's value there (undefined: the body does not have it). */
  value: unknown
}

export interface ParamSite {
  on: 'param'
  spec: ParamSpec
  /** The valid request's value (undefined: left out). */
  value: unknown
}

export type Site = BodySite | ParamSite

const MAX_SITES = 200

/** Places of a body: the root, each property the schema declares or the value has, the first array element. */
export function bodySites(
  value: unknown,
  input: Schema | undefined,
  pointer = '',
  out: BodySite[] = [],
): BodySite[] {
  if (out.length >= MAX_SITES) return out
  const schema = flatten(input)
  const site: BodySite = { on: 'body', pointer, value }
  if (schema) site.schema = schema
  out.push(site)
  if (Array.isArray(value) || (schema?.items && value === undefined)) {
    const items = (schema?.items as Schema | undefined) ?? undefined
    const first = Array.isArray(value) ? value[0] : undefined
    if (first !== undefined || items) bodySites(first, items, `${pointer}/0`, out)
    return out
  }
  if (value && typeof value === 'object') {
    const properties = (schema?.properties ?? {}) as Record<string, Schema>
    const keys = [...new Set([...Object.keys(properties), ...Object.keys(value)])]
    for (const key of keys) {
      bodySites((value as Record<string, unknown>)[key], properties[key], join(pointer, key), out)
    }
  }
  return out
}

function cloneShallow(value: unknown): Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return [...value]
  const out: Record<string, unknown> = {}
  // defineProperty keeps an own `__proto__` key a key, where assignment would set the prototype.
  for (const key of Object.keys(value as object)) {
    Object.defineProperty(out, key, {
      value: (value as Record<string, unknown>)[key],
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

/** A copy of `root` with the value at `pointer` replaced (or removed); containers are created as needed. */
export function setAt(
  root: unknown,
  pointer: string,
  change: { value: unknown } | { remove: true },
): unknown {
  const tokens = split(pointer)
  if (tokens.length === 0) return 'value' in change ? change.value : undefined
  const edit = (node: unknown, i: number): unknown => {
    const token = tokens[i]!
    const container = node && typeof node === 'object' ? cloneShallow(node) : /^\d+$/.test(token) ? [] : {}
    const last = i === tokens.length - 1
    if (Array.isArray(container)) {
      const index = Number(token)
      if (last && !('value' in change)) container.splice(index, 1)
      else container[index] = last ? (change as { value: unknown }).value : edit(container[index], i + 1)
    } else {
      const object = container as Record<string, unknown>
      if (last && !('value' in change)) delete object[token]
      else
        Object.defineProperty(object, token, {
          value: last ? (change as { value: unknown }).value : edit(object[token], i + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        })
    }
    return container
  }
  return edit(root, 0)
}

/** Adds the own keys of `extra` (parsed from JSON, so `__proto__` is a plain key) to a copy of `object`. */
export function withKeys(object: unknown, extra: Record<string, unknown>): unknown {
  const base = object && typeof object === 'object' && !Array.isArray(object) ? object : {}
  const out = cloneShallow(base) as Record<string, unknown>
  for (const key of Object.keys(extra)) {
    Object.defineProperty(out, key, {
      value: extra[key],
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

const MARKER = /"@@vigil-raw-(\d+)@@"/g

/** A piece of a serialized body; `ascii`: known to be all ASCII, so its UTF-8 is itself. */
export interface TextPart {
  text: string
  ascii: boolean
}

/** JSON text of a value that may hold {@link RawJson} fragments. */
export function serialize(value: unknown): string {
  const parts = serializeParts(value)
  // Concatenation, not replace(): V8 joins the pieces without copying a megabyte-long fragment.
  let out = parts[0]?.text ?? ''
  for (let i = 1; i < parts.length; i++) out += parts[i]!.text
  return out
}

/**
 * The JSON text of {@link serialize} as the pieces it is made of, raw fragments' pieces left as they are,
 * so that a long body can be encoded once, piece by piece, without first being joined into one string.
 */
export function serializeParts(value: unknown): TextPart[] {
  // A replacer costs a call per key; most bodies have no raw fragment and need none.
  if (!hasRaw(value)) return [{ text: JSON.stringify(value) ?? '', ascii: false }]
  const raws: RawJson[] = []
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v)
      return `@@vigil-raw-${raws.length - 1}@@`
    }
    return v
  })
  if (text === undefined) return [{ text: '', ascii: false }]
  const split = text.split(MARKER)
  const parts: TextPart[] = [{ text: split[0]!, ascii: false }]
  for (let i = 1; i < split.length; i += 2) {
    const raw = raws[Number(split[i])]!
    for (const piece of raw.pieces) parts.push({ text: piece, ascii: raw.ascii })
    parts.push({ text: split[i + 1]!, ascii: false })
  }
  return parts
}

/** True when the value holds a RawJson anywhere. */
export function hasRaw(value: unknown): boolean {
  if (value instanceof RawJson) return true
  if (Array.isArray(value)) return value.some(hasRaw)
  if (value && typeof value === 'object') return Object.values(value).some(hasRaw)
  return false
}

/** True when the value holds a RawJson whose parsed form is unknown. */
export function hasOpaqueRaw(value: unknown): boolean {
  if (value instanceof RawJson) return value.parsed === undefined
  if (Array.isArray(value)) return value.some(hasOpaqueRaw)
  if (value && typeof value === 'object') return Object.values(value).some(hasOpaqueRaw)
  return false
}

/** The value a server's JSON.parse would build (RawJson replaced by its parsed form). */
export function parsedForm(value: unknown): unknown {
  if (!hasRaw(value)) return value
  if (value instanceof RawJson) return value.parsed?.value
  if (Array.isArray(value)) return value.map(parsedForm)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      Object.defineProperty(out, key, {
        value: parsedForm((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return out
  }
  return value
}

/** How a parameter value travels: strings as they are, everything else as JSON text. */
export function wire(value: unknown): string {
  if (typeof value === 'string') return value
  if (value instanceof RawJson) return value.text
  return JSON.stringify(value) ?? ''
}
