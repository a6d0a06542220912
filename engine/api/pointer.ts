/** JSON Pointers (RFC 6901) as the contract check uses them: strings such as `/items/3/id`. */

/** Escapes one reference token: `~` → `~0`, `/` → `~1`. */
export function escapeToken(token: string): string {
  if (!token.includes('~') && !token.includes('/')) return token
  return token.replace(/~/g, '~0').replace(/\//g, '~1')
}

export function unescapeToken(token: string): string {
  if (!token.includes('~')) return token
  return token.replace(/~1/g, '/').replace(/~0/g, '~')
}

/** The pointer of a child: `join('/items', 3)` → `/items/3`. */
export function join(parent: string, token: string | number): string {
  return `${parent}/${typeof token === 'number' ? token : escapeToken(token)}`
}

/** Tokens of a pointer; `''` (the whole document) has none. */
export function split(pointer: string): string[] {
  if (pointer === '') return []
  if (!pointer.startsWith('/')) throw new Error(`invalid JSON pointer "${pointer}": must start with "/"`)
  return pointer.slice(1).split('/').map(unescapeToken)
}

/** The value a pointer designates, or `undefined` when it designates nothing. */
export function get(document: unknown, pointer: string): unknown {
  let current = document
  for (const token of split(pointer)) {
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined
      current = current[Number(token)]
    } else if (current !== null && typeof current === 'object') {
      if (!Object.hasOwn(current, token)) return undefined
      current = (current as Record<string, unknown>)[token]
    } else return undefined
  }
  return current
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
