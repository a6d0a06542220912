/**
 * JSON Pointers (RFC 6901), `/items/3/id`: the one module every layer uses for them — plan diagnostics, the
 * values a check selects, schema documents, the contract diff. The token grammar (escaping `~` and `/`,
 * splitting) is json-pointer's; reading a value is done here, because json-pointer's `get` follows the
 * prototype chain (`/constructor` of `{}` is a function) and throws on a missing value, where a response
 * must only ever show its own properties and a missing value is an answer, not an error.
 */
import jsonPointer from 'json-pointer'
import { PlansError } from './errors.js'

/** What a pointer designates: `found: false` when nothing is there (distinct from a `null` value). */
export type PointerTarget = { found: true; value: unknown } | { found: false }

/** A pointer that does not start with `/` (and is not `''`, the whole document). */
export class PointerSyntaxError extends PlansError {
  constructor(readonly pointer: string) {
    super('VIGIL_POINTER', `invalid JSON pointer "${pointer}": must start with "/"`)
  }
}

/** Escapes one reference token: `~` → `~0`, `/` → `~1`. */
export function escapeToken(token: string): string {
  // Most keys need no escaping; skipping the two replacements keeps the contract diff's walk cheap.
  return token.includes('~') || token.includes('/') ? jsonPointer.escape(token) : token
}

/** Unescapes one reference token: `~1` → `/`, `~0` → `~`. */
export function unescapeToken(token: string): string {
  return token.includes('~') ? jsonPointer.unescape(token) : token
}

/** The pointer of a child: `join('/items', 3)` → `/items/3`. */
export function join(parent: string, token: string | number): string {
  return `${parent}/${typeof token === 'number' ? token : escapeToken(token)}`
}

/** The pointer made of these (unescaped) tokens; none is `''`, the whole document. */
export function compile(tokens: readonly (string | number)[]): string {
  return tokens.length === 0 ? '' : jsonPointer.compile(tokens.map(String))
}

/**
 * Tokens of a pointer, unescaped; `''` (the whole document) has none.
 * @throws PointerSyntaxError when the pointer does not start with `/`
 */
export function split(pointer: string): string[] {
  if (pointer === '') return []
  if (!pointer.startsWith('/')) throw new PointerSyntaxError(pointer)
  return jsonPointer.parse(pointer)
}

const INDEX = /^(0|[1-9]\d*)$/

/**
 * What a pointer designates in a document: own properties only, array elements by canonical index
 * (`/items/01` and `/items/-` designate nothing).
 * @throws PointerSyntaxError when the pointer does not start with `/`
 */
export function find(document: unknown, pointer: string): PointerTarget {
  let current = document
  for (const token of split(pointer)) {
    if (Array.isArray(current)) {
      if (!INDEX.test(token) || Number(token) >= current.length) return { found: false }
      current = current[Number(token)]
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, token)) {
      current = (current as Record<string, unknown>)[token]
    } else return { found: false }
  }
  return { found: true, value: current }
}

/** The value a pointer designates, or `undefined` when it designates nothing. */
export function get(document: unknown, pointer: string): unknown {
  const target = find(document, pointer)
  return target.found ? target.value : undefined
}

/** The URI fragment form of a pointer, as `$ref`s write it: `/paths/~1orders~1{id}` → `/paths/~1orders~1%7Bid%7D`. */
export function uriFragment(pointer: string): string {
  return pointer
    .split('/')
    .map((token) => encodeURIComponent(token).replace(/%7E/gi, '~'))
    .join('/')
}

/** The parent pointer (`/a/b` → `/a`); the root is its own parent. */
export function parent(pointer: string): string {
  const i = pointer.lastIndexOf('/')
  return i <= 0 ? '' : pointer.slice(0, i)
}

/** The last token, unescaped (`/a/b~1c` → `b/c`). */
export function lastToken(pointer: string): string {
  return unescapeToken(pointer.slice(pointer.lastIndexOf('/') + 1))
}
