/**
 * Learned noise keeps its class. A place whose values differ between two baseline calls (a generated id,
 * a timestamp) is not compared for equality, but what every baseline sample has in common still holds
 * for the candidate: the field is there, its JSON type, and its format class (format-class.ts). This
 * module compares the candidate with all the baseline's samples at each noisy place; any comparison of a
 * baseline with a candidate (HTTP bodies and headers today, messages and rows next) imports it from here.
 * Declared ignores are not noise: they stay fully ignored.
 */
import { escapeToken, unescapeToken } from '../pointer.js'
import { classChange, describeProfile, profileOf, type ClassChangeKind } from './format-class.js'

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

interface Site {
  /** Concrete pointer of the parent object or array. */
  parent: string
  /** The last token; undefined when the path is the whole document. */
  key?: string
  /** Present when the parent holds the key. */
  value?: unknown
  present: boolean
}

/**
 * Every place a generalised path (`/items/*\/id`; `*` is every element of an array) designates in a
 * document, including objects where its last field is absent (so a removal can be seen).
 */
export function sitesOf(document: unknown, path: string): Site[] {
  const tokens = path === '' ? [] : path.slice(1).split('/').map(unescapeToken)
  const out: Site[] = []
  const visit = (node: unknown, i: number, pointer: string): void => {
    if (i === tokens.length) {
      out.push({ parent: pointer, value: node, present: true })
      return
    }
    const token = tokens[i]!
    const last = i === tokens.length - 1
    if (Array.isArray(node)) {
      if (token === '*') node.forEach((element, n) => visit(element, i + 1, `${pointer}/${n}`))
      return
    }
    if (node === null || typeof node !== 'object') return
    const present = Object.hasOwn(node, token)
    if (last) {
      const site: Site = { parent: pointer, key: token, present }
      if (present) site.value = (node as Record<string, unknown>)[token]
      out.push(site)
    } else if (present)
      visit((node as Record<string, unknown>)[token], i + 1, `${pointer}/${escapeToken(token)}`)
  }
  visit(document, 0, '')
  return out
}

function pointerOf(site: Site): string {
  return site.key === undefined ? site.parent : `${site.parent}/${escapeToken(site.key)}`
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
    const baseline = baselineSamples.flatMap((sample) => sitesOf(sample, path))
    const values = baseline.filter((s) => s.present).map((s) => s.value)
    if (values.length === 0) continue
    const profile = profileOf(values)
    const always = baseline.every((s) => s.present)
    const groups = new Map<string, NoiseClassChange>()
    const add = (kind: NoiseClassChange['kind'], site: Site, from: string, to: string) => {
      const group = groups.get(kind)
      if (group) group.count++
      else
        groups.set(kind, {
          kind,
          path,
          count: 1,
          pointer: pointerOf(site),
          baseline: values[0],
          candidate: site.value,
          from,
          to,
        })
    }
    for (const site of sitesOf(candidate, path)) {
      if (!site.present) {
        if (always) add('removed', site, describeProfile(profile), 'nothing')
        continue
      }
      const change = classChange(profile, site.value)
      if (change) add(change.kind, site, change.baseline, change.candidate)
    }
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
