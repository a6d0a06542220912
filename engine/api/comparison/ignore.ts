/**
 * Pointer patterns: which parts of a response a comparison ignores. A pattern is a JSON pointer whose
 * tokens may be `*` (any one token, e.g. any array index), `**` (any number of tokens, including none)
 * or contain `*` as a wildcard (`x-*`). `/**\/id` ignores every `id` at any depth; `/generatedAt` one
 * field; `/items/*\/createdAt` a field of every element. A pattern also covers everything below what
 * it matches. A pattern without a leading `/` is a field name anywhere: `id` means `/**\/id`.
 *
 * Matching is an automaton stepped token by token while the diff walks the documents, so a large
 * ignored subtree costs nothing and a pattern is never matched against a whole pointer string.
 */
import { split } from '../pointer.js'

type TokenTest = string | RegExp

/** The automaton's state after some tokens: which positions of which patterns are still alive. */
export interface MatchState {
  /** True when a pattern matches here: this node and all below it are ignored. */
  readonly matched: boolean
  /** @internal */
  readonly positions: readonly number[]
  /** @internal memoised transitions */
  readonly next: Map<string, MatchState | null>
  /** @internal true when some live pattern token could tell one array index from another */
  readonly indexSensitive: boolean
}

function tokenTest(token: string): TokenTest {
  if (token === '*' || token === '**' || !token.includes('*')) return token
  const source = token.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${source.join('.*')}$`)
}

/** Compiled pointer patterns. Build once per check; `root` is the state for the whole document. */
export class PointerMatcher {
  readonly patterns: readonly string[]
  readonly root: MatchState | null
  private readonly tokens: TokenTest[][]
  /** Equal position sets share one state (and its memoised transitions). */
  private readonly interned = new Map<string, MatchState>()
  // A position packs (pattern index, token index) into one number.
  private static readonly WIDTH = 1024

  constructor(patterns: Iterable<string>) {
    this.patterns = [...new Set(patterns)].sort()
    this.tokens = this.patterns.map((p) => normalizePattern(p).map(tokenTest))
    if (this.tokens.some((t) => t.length >= PointerMatcher.WIDTH)) throw new Error('pointer pattern too deep')
    this.root = this.state(this.patterns.map((_, i) => i * PointerMatcher.WIDTH))
  }

  /** The state after descending into `token` (an object key or an array index), or null when nothing can match any more. */
  step(state: MatchState | null, token: string | number, isIndex: boolean): MatchState | null {
    if (state === null || state.matched) return state
    // Most patterns treat all indices alike (`*`, `**`): then one transition serves every element.
    const key = isIndex ? (state.indexSensitive ? `#${token}` : '#') : (token as string)
    const cached = state.next.get(key)
    if (cached !== undefined) return cached
    const out: number[] = []
    for (const position of state.positions) {
      const pattern = this.tokens[Math.floor(position / PointerMatcher.WIDTH)]!
      const test = pattern[position % PointerMatcher.WIDTH]
      if (test === undefined) continue
      if (test === '**') out.push(position)
      else if (
        test === '*' ||
        (typeof test === 'string' ? test === String(token) : test.test(String(token)))
      ) {
        out.push(position + 1)
      }
    }
    const next = this.state(out)
    // Array indices are many and rarely named by patterns: cache them only while the map stays small.
    if (!isIndex || state.next.size < 4096) state.next.set(key, next)
    return next
  }

  /** True when the pointer (or one of its ancestors) matches a pattern. */
  matches(pointer: string, document?: unknown): boolean {
    let state = this.root
    let current = document
    if (state?.matched) return true
    for (const token of split(pointer)) {
      const isIndex = Array.isArray(current) || (current === undefined && /^\d+$/.test(token))
      state = this.step(state, token, isIndex)
      if (state === null) return false
      if (state.matched) return true
      current =
        current !== null && typeof current === 'object'
          ? (current as Record<string, unknown>)[token]
          : undefined
    }
    return false
  }

  private state(start: number[]): MatchState | null {
    // Epsilon closure: `**` may match no token at all.
    const closed = new Set<number>()
    const queue = [...start]
    while (queue.length) {
      const position = queue.pop()!
      if (closed.has(position)) continue
      closed.add(position)
      const pattern = this.tokens[Math.floor(position / PointerMatcher.WIDTH)]!
      if (pattern[position % PointerMatcher.WIDTH] === '**') queue.push(position + 1)
    }
    if (closed.size === 0) return null
    const positions = [...closed].sort((a, b) => a - b)
    const id = positions.join(',')
    const existing = this.interned.get(id)
    if (existing) return existing
    let matched = false
    for (const position of closed) {
      if (
        position % PointerMatcher.WIDTH ===
        this.tokens[Math.floor(position / PointerMatcher.WIDTH)]!.length
      )
        matched = true
    }
    let indexSensitive = false
    for (const position of closed) {
      const test = this.tokens[Math.floor(position / PointerMatcher.WIDTH)]![position % PointerMatcher.WIDTH]
      if (
        test instanceof RegExp ||
        (test !== undefined && test !== '*' && test !== '**' && /^\d+$/.test(test))
      ) {
        indexSensitive = true
      }
    }
    const state: MatchState = { matched, positions, next: new Map(), indexSensitive }
    this.interned.set(id, state)
    return state
  }
}

/** `id` → `/**\/id`; `/a/b` stays; `''` and `/` mean the whole document. */
function normalizePattern(pattern: string): string[] {
  if (pattern === '' || pattern === '/') return []
  if (!pattern.startsWith('/')) return ['**', ...split(`/${pattern}`)]
  return split(pattern)
}

/** An error in an ignore pattern, for plan authors; null when the pattern is fine. */
export function checkPattern(pattern: string): string | null {
  if (pattern.includes('//')) return `pattern "${pattern}" has an empty token ("//")`
  if (/\*\*[^/]|[^/]\*\*/.test(pattern)) return `pattern "${pattern}": "**" must be a whole token`
  return null
}
