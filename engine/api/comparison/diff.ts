/**
 * Structural diff of two JSON documents (baseline → candidate). Differences at the same generalised
 * path (array indices as `*`) are grouped, so 10,000 elements missing a field make one group with a
 * count and a few examples, and memory stays bounded whatever the body size.
 *
 * The walk keeps a token stack and builds pointer strings only where a difference is found: on equal
 * documents it costs about as much as a plain deep-equality.
 */
import type { MatchState, PointerMatcher } from './ignore.js'
import { escapeToken } from '../pointer.js'

/**
 * - `removed`: a field of the baseline is missing in the candidate.
 * - `added`: the candidate has a field the baseline does not.
 * - `type`: the JSON type differs (number → string, array → object, value → null, …).
 * - `value`: same primitive type, different value.
 * - `length`: an array has a different number of elements (values are the lengths).
 */
export type DifferenceKind = 'removed' | 'added' | 'type' | 'value' | 'length'

export interface DifferenceExample {
  /** Concrete JSON pointer, e.g. `/items/3/totalCents` (baseline's index where they differ). */
  pointer: string
  /** Value in the baseline; `undefined` when absent. */
  baseline: unknown
  /** Value in the candidate; `undefined` when absent. */
  candidate: unknown
}

export interface DifferenceGroup {
  kind: DifferenceKind
  /** Generalised pointer: array indices replaced by `*`, e.g. `/items/*\/totalCents`. */
  path: string
  /** How many concrete places differ this way. */
  count: number
  /** The first few concrete differences, in document order. */
  examples: DifferenceExample[]
}

export interface DiffOptions {
  /** Parts to skip (declared ignores, learned noise). @default none */
  ignore?: PointerMatcher
  /** Compare arrays as multisets: an element matches an equal one anywhere. @default false */
  ignoreOrder?: boolean
  /** Examples kept per group. @default 3 */
  examples?: number
}

/** Differences between two JSON values, grouped by kind and generalised path, in document order. */
export function diffJson(
  baseline: unknown,
  candidate: unknown,
  options: DiffOptions = {},
): DifferenceGroup[] {
  const walker = new Walker(options)
  walker.walk(baseline, candidate, options.ignore?.root ?? null)
  return [...walker.groups.values()]
}

class Walker {
  readonly groups = new Map<string, DifferenceGroup>()
  // Array indices are kept as numbers: no string is built per element unless a difference is recorded.
  private readonly tokens: Array<string | number> = []
  private readonly matcher: PointerMatcher | undefined
  private readonly ignoreOrder: boolean
  private readonly maxExamples: number

  constructor(options: DiffOptions) {
    this.matcher = options.ignore
    this.ignoreOrder = options.ignoreOrder ?? false
    this.maxExamples = options.examples ?? 3
  }

  walk(b: unknown, c: unknown, state: MatchState | null): void {
    if (b === c) return
    if (state !== null && state.matched) return
    const tb = typeof b
    if (tb !== 'object' || b === null || c === null || typeof c !== 'object') {
      if (tb === typeof c && b !== null && c !== null) this.record('value', b, c)
      else this.record('type', b, c)
      return
    }
    const bArray = Array.isArray(b)
    if (bArray !== Array.isArray(c)) return this.record('type', b, c)
    if (bArray)
      return this.ignoreOrder
        ? this.unordered(b, c as unknown[], state)
        : this.ordered(b, c as unknown[], state)
    this.object(b as Record<string, unknown>, c as Record<string, unknown>, state)
  }

  private object(b: Record<string, unknown>, c: Record<string, unknown>, state: MatchState | null): void {
    const matcher = this.matcher
    let shared = 0
    for (const key in b) {
      const cv = c[key]
      const bv = b[key]
      // JSON never holds undefined: undefined means absent.
      if (cv !== undefined) shared++
      if (bv === cv) continue
      const next = state === null ? null : matcher!.step(state, key, false)
      if (next !== null && next.matched) continue
      this.tokens.push(key)
      if (cv === undefined) this.record('removed', bv, undefined)
      else this.walk(bv, cv, next)
      this.tokens.pop()
    }
    let count = 0
    for (const _ in c) count++
    if (count === shared) return
    for (const key in c) {
      if (b[key] !== undefined) continue
      const next = state === null ? null : matcher!.step(state, key, false)
      if (next !== null && next.matched) continue
      this.tokens.push(key)
      this.record('added', undefined, c[key])
      this.tokens.pop()
    }
  }

  private ordered(b: unknown[], c: unknown[], state: MatchState | null): void {
    const n = Math.min(b.length, c.length)
    for (let i = 0; i < n; i++) this.element(i, b[i], c[i], state)
    if (b.length !== c.length) this.record('length', b.length, c.length)
  }

  private element(index: number, b: unknown, c: unknown, state: MatchState | null): void {
    if (b === c) return
    const next = state === null ? null : this.matcher!.step(state, index, true)
    if (next !== null && next.matched) return
    this.tokens.push(index)
    this.walk(b, c, next)
    this.tokens.pop()
  }

  /** Multiset comparison: equal elements (ignoring ignored parts) pair up; the rest pair in order. */
  private unordered(b: unknown[], c: unknown[], state: MatchState | null): void {
    const elementState = state === null ? null : this.matcher!.step(state, 0, true)
    if (elementState !== null && elementState.matched) return
    const pool = new Map<string, number[]>()
    for (let i = c.length - 1; i >= 0; i--) {
      const key = canonical(c[i], elementState, this.matcher)
      const list = pool.get(key)
      if (list) list.push(i)
      else pool.set(key, [i])
    }
    const leftB: number[] = []
    for (let i = 0; i < b.length; i++) {
      const list = pool.get(canonical(b[i], elementState, this.matcher))
      if (list?.length) list.pop()
      else leftB.push(i)
    }
    const leftC = [...pool.values()].flat().sort((x, y) => x - y)
    const n = Math.min(leftB.length, leftC.length)
    for (let k = 0; k < n; k++) this.element(leftB[k]!, b[leftB[k]!], c[leftC[k]!], state)
    if (b.length !== c.length) this.record('length', b.length, c.length)
  }

  private record(kind: DifferenceKind, baseline: unknown, candidate: unknown): void {
    let path = ''
    for (const token of this.tokens) path += typeof token === 'number' ? '/*' : `/${escapeToken(token)}`
    const key = `${kind} ${path}`
    let group = this.groups.get(key)
    if (!group) this.groups.set(key, (group = { kind, path, count: 0, examples: [] }))
    group.count++
    if (group.examples.length < this.maxExamples) {
      let pointer = ''
      for (const token of this.tokens)
        pointer += typeof token === 'number' ? `/${token}` : `/${escapeToken(token)}`
      group.examples.push({ pointer, baseline, candidate })
    }
  }
}

/** Stable text of a value with sorted keys, leaving out ignored parts: equal texts mean equal for the diff. */
export function canonical(
  value: unknown,
  state: MatchState | null,
  matcher: PointerMatcher | undefined,
): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined'
  if (state === null && !Array.isArray(value)) {
    // Fast path: nothing below can be ignored.
    const keys = Object.keys(value).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k], null, undefined)}`).join(',')}}`
  }
  if (Array.isArray(value)) {
    const next = state === null ? null : matcher!.step(state, 0, true)
    return `[${value.map((v) => (next?.matched ? '_' : canonical(v, next, matcher))).join(',')}]`
  }
  const parts: string[] = []
  for (const key of Object.keys(value).sort()) {
    const next = matcher!.step(state, key, false)
    if (next !== null && next.matched) continue
    parts.push(`${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key], next, matcher)}`)
  }
  return `{${parts.join(',')}}`
}
