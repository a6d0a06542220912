/**
 * Enum knowledge for the comparison: which generalised paths of a response hold an enum (from its
 * JSON Schema), and which of their values each response actually returns.
 */
import { escapeToken, get as getPointer, unescapeToken } from '../pointer.js'

/** Generalised path (`/items/*\/status`) → the values its schema allows. */
export type EnumPaths = Map<string, unknown[]>

type Schema = Record<string, unknown>

/**
 * Walks a schema (internal `$ref`s resolved against `root`) and lists the paths that have an `enum`.
 * Depth and cycles are bounded: recursive schemas yield their first levels only.
 */
export function enumPaths(schema: unknown, root: unknown, maxDepth = 12): EnumPaths {
  const out: EnumPaths = new Map()
  const visit = (node: unknown, path: string, depth: number, stack: Set<unknown>): void => {
    if (!node || typeof node !== 'object' || depth > maxDepth || stack.has(node)) return
    const s = node as Schema
    stack.add(node)
    if (typeof s.$ref === 'string' && s.$ref.startsWith('#')) {
      visit(getPointer(root, decodeURIComponent(s.$ref.slice(1))), path, depth, stack)
    }
    if (Array.isArray(s.enum)) {
      const values = s.enum.filter((v) => v !== null)
      out.set(path, [...new Set([...(out.get(path) ?? []), ...values])])
    }
    if (s.const !== undefined && s.const !== null && typeof s.const !== 'object') {
      out.set(path, [...new Set([...(out.get(path) ?? []), s.const])])
    }
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      if (Array.isArray(s[key])) for (const sub of s[key] as unknown[]) visit(sub, path, depth, stack)
    }
    if (s.properties && typeof s.properties === 'object') {
      for (const [name, sub] of Object.entries(s.properties as Schema))
        visit(sub, `${path}/${escapeToken(name)}`, depth + 1, stack)
    }
    if (s.items && typeof s.items === 'object' && !Array.isArray(s.items))
      visit(s.items, `${path}/*`, depth + 1, stack)
    if (Array.isArray(s.prefixItems))
      for (const sub of s.prefixItems) visit(sub, `${path}/*`, depth + 1, stack)
    stack.delete(node)
  }
  visit(schema, '', 0, new Set())
  return out
}

/** Distinct primitive values found at a generalised path (`*` = every element of an array). */
export function valuesAt(document: unknown, path: string): Set<unknown> {
  const tokens = path === '' ? [] : path.slice(1).split('/')
  const out = new Set<unknown>()
  const visit = (node: unknown, i: number): void => {
    if (i === tokens.length) {
      if (node !== null && typeof node !== 'object' && node !== undefined) out.add(node)
      return
    }
    const token = tokens[i]!
    if (token === '*') {
      if (Array.isArray(node)) for (const element of node) visit(element, i + 1)
      return
    }
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      const key = unescapeToken(token)
      if (Object.hasOwn(node, key)) visit((node as Record<string, unknown>)[key], i + 1)
    }
  }
  visit(document, 0)
  return out
}
