/**
 * Learned noise keeps its class. A place whose values differ between two baseline calls (a generated id,
 * a timestamp) is not compared for equality, but what every baseline sample has in common still holds
 * for the candidate: the field is there, its JSON type, and its format class (format-class.ts). This
 * module compares the candidate with all the baseline's samples at each noisy place; any comparison of a
 * baseline with a candidate (HTTP bodies and headers today, messages and rows next) imports it from here.
 * Declared ignores are not noise: they stay fully ignored.
 */
import { escapeToken, unescapeToken } from '../pointer.js'
import {
  classChange,
  describeProfile,
  profileOf,
  ProfileBuilder,
  type ClassChangeKind,
} from './format-class.js'

/** One way the candidate left the baseline's class at one noisy place, grouped over its occurrences. */
export interface NoiseClassChange {
  /** `removed`: every baseline sample has the field, the candidate's object lacks it. */
  kind: 'removed' | ClassChangeKind
  /** The generalised pointer (array indices as `*`). */
  path: string
  /** Occurrences in the candidate. */
  count: number
  /** The first concrete pointer in the candidate. */
  pointer: string
  /** A baseline value at the path (the first found). */
  baseline: unknown
  /** The candidate's value at `pointer` (undefined when removed). */
  candidate: unknown
  /** The baseline's class in words (`a hex string of 4 characters`). */
  from: string
  /** The candidate's class in words. */
  to: string
}

/**
 * Calls `visit` for every place a generalised path (`/items/*\/id`; `*` is every element of an array)
 * designates in a document, including objects where its last field is absent (`present: false`), so a
 * removal can be seen. Pointers are built only when asked for: most places are never reported.
 */
export function visitSites(
  document: unknown,
  path: string,
  visit: (value: unknown, present: boolean, pointer: () => string) => void,
): void {
  const tokens = path === '' ? [] : path.slice(1).split('/').map(unescapeToken)
  const trail: Array<string | number> = []
  const pointer = () => trail.map((t) => `/${typeof t === 'number' ? t : escapeToken(t)}`).join('')
  const walk = (node: unknown, i: number): void => {
    if (i === tokens.length) return visit(node, true, pointer)
    const token = tokens[i]!
    if (Array.isArray(node)) {
      if (token !== '*') return
      for (let n = 0; n < node.length; n++) {
        trail.push(n)
        walk(node[n], i + 1)
        trail.pop()
      }
      return
    }
    if (node === null || typeof node !== 'object') return
    const present = Object.hasOwn(node, token)
    if (!present && i < tokens.length - 1) return
    trail.push(token)
    if (present) walk((node as Record<string, unknown>)[token], i + 1)
    else visit(undefined, false, pointer)
    trail.pop()
  }
  walk(document, 0)
}

/**
 * How the candidate leaves the class of the baseline samples at each noisy path, grouped by path and
 * kind, in path order. A path where the baseline has no value says nothing.
 */
export function noiseClassChanges(
  baselineSamples: readonly unknown[],
  candidate: unknown,
  paths: readonly string[],
): NoiseClassChange[] {
  const out: NoiseClassChange[] = []
  for (const path of [...paths].sort()) {
    const builder = new ProfileBuilder()
    let first: unknown
    let always = true
    for (const sample of baselineSamples) {
      visitSites(sample, path, (value, present) => {
        if (!present) always = false
        else {
          if (builder.empty) first = value
          builder.add(value)
        }
      })
    }
    if (builder.empty) continue
    const profile = builder.profile()
    const groups = new Map<string, NoiseClassChange>()
    const add = (
      kind: NoiseClassChange['kind'],
      pointer: () => string,
      value: unknown,
      from: string,
      to: string,
    ) => {
      const group = groups.get(kind)
      if (group) group.count++
      else
        groups.set(kind, {
          kind,
          path,
          count: 1,
          pointer: pointer(),
          baseline: first,
          candidate: value,
          from,
          to,
        })
    }
    visitSites(candidate, path, (value, present, pointer) => {
      if (!present) {
        if (always) add('removed', pointer, undefined, describeProfile(profile), 'nothing')
        return
      }
      const change = classChange(profile, value)
      if (change) add(change.kind, pointer, value, change.baseline, change.candidate)
    })
    out.push(...groups.values())
  }
  return out
}

/**
 * The same for one value per sample (a header, a message attribute): the baseline's values, and the
 * candidate's (undefined when it has none).
 */
export function valueClassChange(
  baselineValues: readonly unknown[],
  candidate: unknown,
): { kind: NoiseClassChange['kind']; from: string; to: string } | undefined {
  const present = baselineValues.filter((v) => v !== undefined)
  if (present.length === 0) return undefined
  const profile = profileOf(present)
  if (candidate === undefined)
    return present.length === baselineValues.length
      ? { kind: 'removed', from: describeProfile(profile), to: 'nothing' }
      : undefined
  const change = classChange(profile, candidate)
  return change ? { kind: change.kind, from: change.baseline, to: change.candidate } : undefined
}
