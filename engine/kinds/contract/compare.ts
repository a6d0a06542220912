/**
 * Baseline ↔ candidate comparison of one request's responses, Diffy-style: the baseline is called
 * twice (primary and secondary); what differs between those two calls is noise, whose values are not
 * held against the candidate — but its presence, JSON type and format class are (noise.ts). What remains
 * is classified: breaking (fails the check), additive (info), changed values (warning by default). A
 * status change is breaking unless the plan declares the transition (`allowStatus`).
 */
import type { Severity } from '../../verdict.js'
import { change, type Change, type ChangeClass } from './changes.js'
import { diffJson, type DifferenceGroup } from '../../api/comparison/diff.js'
import { valuesAt, type EnumPaths } from '../../api/documents/enums.js'
import { diffHeaders, mediaType } from './headers.js'
import { PointerMatcher } from '../../api/comparison/ignore.js'
import { renameTarget } from '../../api/comparison/rename.js'
import { describeValue, jsonType } from '../../api/values.js'
import {
  acceptanceYaml,
  acceptedTransition,
  type StatusTransition,
} from '../../api/comparison/status-transitions.js'
import { noiseChanges, noiseHeaderChange, type NoiseModel } from './noise.js'

export { learnNoise, type NoiseModel } from './noise.js'
export type { Change, ChangeClass } from './changes.js'

/** A response reduced to what the comparison needs. `body` is parsed JSON, else the text, else undefined. */
export interface ResponseSnapshot {
  status: number
  headers: Readonly<Record<string, string>>
  body: unknown
}

export interface CompareOptions {
  /** Declared ignores: pointer patterns (see ignore.ts). @default [] */
  ignore?: readonly string[]
  /** Compare arrays as multisets. @default false */
  ignoreOrder?: boolean
  /** Compare only these headers (plus content-type); default: every header but the volatile ones. */
  headers?: readonly string[]
  /** Enum paths of the response schema, for enum-value changes. */
  enums?: EnumPaths
  /** Severity of a changed value or array length that is neither noise nor ignored; `ignore` drops it. @default 'warning' */
  values?: Severity | 'ignore'
  /**
   * Severity of learned noise that changed format class (a hex id that became base64url, an integer that
   * became fractional, a length out of the baseline's band); `ignore` drops it. A removed noisy field and a
   * JSON type change there are breaking whatever this says. @default 'warning'
   */
  noiseClass?: Severity | 'ignore'
  /** Status changes that are accepted (`404->400`): reported as information, not as breaking. @default [] */
  allowStatus?: readonly StatusTransition[]
  /** True when the plan wrote `compare` as a mapping: the acceptance hint then names one entry of it. */
  compareMapping?: boolean
}

const EMPTY_NOISE: NoiseModel = { paths: [], lengths: [], headers: [], status: false }

/** Changes from the baseline's primary response to the candidate's, noise and ignores left out, sorted by pointer. */
export function compareResponses(
  baseline: ResponseSnapshot,
  candidate: ResponseSnapshot,
  noise: NoiseModel = EMPTY_NOISE,
  options: CompareOptions = {},
): Change[] {
  if (noise.status) return []
  const changes: Change[] = []
  if (baseline.status !== candidate.status) {
    changes.push(statusChange(baseline.status, candidate.status, options))
    // Bodies of different statuses are different documents (an order vs an error): their diff says nothing more.
    return changes
  }
  changes.push(...headerChanges(baseline, candidate, noise, options))
  // A JSON body that became text (or the other way) is a different document: the content type says it.
  const json = (type: unknown) => typeof type === 'string' && /[/+]json$/.test(type)
  const typeChange = changes.find((c) => c.messageId === 'content-type-changed')
  if (!typeChange || json(typeChange.baseline) === json(typeChange.candidate)) {
    const matcher = new PointerMatcher([...(options.ignore ?? []), ...noise.paths])
    const groups = diffJson(baseline.body, candidate.body, {
      ignore: matcher,
      ignoreOrder: options.ignoreOrder,
    })
    changes.push(...classifyGroups(groups, noise, options))
    changes.push(...noiseChanges(noise, baseline, candidate, options))
    changes.push(...enumChanges(baseline.body, candidate.body, matcher, options.enums))
  }
  return changes.sort(
    (a, b) => order(a) - order(b) || compareText(a.path, b.path) || compareText(a.messageId, b.messageId),
  )
}

function statusChange(baseline: number, candidate: number, options: CompareOptions): Change {
  const accepted = acceptedTransition(options.allowStatus ?? [], baseline, candidate)
  if (accepted) {
    return change('status-change-accepted', 'info', 'changed', 'status', 'status', 1, baseline, candidate, {
      transition: accepted.text,
    })
  }
  const accept = acceptanceYaml(baseline, candidate, {
    declared: options.allowStatus ?? [],
    mapping: options.compareMapping ?? false,
  })
  const how = options.compareMapping
    ? `accept it by adding ${accept} to the request's compare mapping`
    : `accept it with ${accept}`
  return change('status-changed', 'error', 'breaking', 'status', 'status', 1, baseline, candidate, {
    accept,
    how,
  })
}

function headerChanges(
  baseline: ResponseSnapshot,
  candidate: ResponseSnapshot,
  noise: NoiseModel,
  options: CompareOptions,
): Change[] {
  const out: Change[] = []
  const interesting = new Set((options.headers ?? []).map((h) => h.toLowerCase()))
  for (const d of diffHeaders(baseline.headers, candidate.headers, options.headers)) {
    const pointer = `header:${d.name}`
    if (noise.headers.includes(d.name)) {
      // A noisy header is compared by class; one every baseline call sent and the candidate does not is removed.
      const noisy = noiseHeaderChange(noise, d.name, candidate, options)
      if (noisy !== 'removed') {
        if (noisy) out.push(noisy)
        continue
      }
    }
    if (d.name === 'content-type' && d.kind !== 'added') {
      const data = { header: d.name }
      const b = mediaType(d.baseline)
      const c = mediaType(d.candidate)
      out.push(change('content-type-changed', 'error', 'breaking', pointer, pointer, 1, b, c ?? null, data))
      continue
    }
    const severity: Severity = d.kind === 'added' ? 'info' : interesting.has(d.name) ? 'error' : 'warning'
    const klass: ChangeClass = d.kind === 'added' ? 'additive' : severity === 'error' ? 'breaking' : 'changed'
    out.push(
      change(
        `header-${d.kind}`,
        severity,
        klass,
        pointer,
        pointer,
        1,
        d.baseline ?? null,
        d.candidate ?? null,
        { header: d.name },
      ),
    )
  }
  return out
}

function classifyGroups(groups: DifferenceGroup[], noise: NoiseModel, options: CompareOptions): Change[] {
  const out: Change[] = []
  const valueSeverity = options.values ?? 'warning'
  const enums = options.enums ?? new Map()
  const renamed = new Set<DifferenceGroup>()
  for (const group of groups) {
    const example = group.examples[0]
    const pointer = example?.pointer ?? group.path
    const b = example?.baseline
    const c = example?.candidate
    const at = (id: string, severity: Severity, klass: ChangeClass, data: Record<string, string> = {}) =>
      out.push(change(id, severity, klass, pointer, group.path, group.count, b, c, data))
    switch (group.kind) {
      case 'removed': {
        const target = renameTarget(group, groups)
        if (target) renamed.add(target)
        at('field-removed', 'error', 'breaking', {
          rename: target ? `; candidate has ${target.examples[0]?.pointer ?? target.path}` : '',
        })
        break
      }
      case 'type':
        if (c === null) at('became-nullable', 'error', 'breaking')
        else if (b === null) {
          if (valueSeverity !== 'ignore') at('value-changed', valueSeverity, 'changed')
        } else at('type-changed', 'error', 'breaking', { from: jsonType(b), to: jsonType(c) })
        break
      case 'value':
        if (valueSeverity !== 'ignore' && !enums.has(group.path))
          at('value-changed', valueSeverity, 'changed')
        break
      case 'length':
        if (valueSeverity !== 'ignore' && !noise.lengths.includes(group.path))
          at('length-changed', valueSeverity, 'changed')
        break
      case 'added':
        break
    }
  }
  for (const group of groups) {
    if (group.kind !== 'added' || renamed.has(group)) continue
    const example = group.examples[0]
    out.push(
      change(
        'field-added',
        'info',
        'additive',
        example?.pointer ?? group.path,
        group.path,
        group.count,
        undefined,
        example?.candidate,
      ),
    )
  }
  return out
}

function enumChanges(
  baseline: unknown,
  candidate: unknown,
  matcher: PointerMatcher,
  enums: EnumPaths | undefined,
): Change[] {
  const out: Change[] = []
  for (const [path, allowed] of [...(enums ?? [])].sort(([a], [b]) => compareText(a, b))) {
    if (matcher.matches(path)) continue
    const b = valuesAt(baseline, path)
    const c = valuesAt(candidate, path)
    // An empty side means the field or its array is gone or empty: other changes say so.
    if (b.size === 0 || c.size === 0) continue
    const returned = [...c].map((v) => describeValue(v)).join(', ')
    for (const value of [...b].filter((v) => !c.has(v)).sort(compareUnknown)) {
      const data = {
        value: describeValue(value),
        returned,
        documented: allowed.includes(value) ? 'documented' : 'undocumented',
      }
      out.push(change('enum-value-removed', 'error', 'breaking', path, path, 1, value, [...c], data))
    }
    for (const value of [...c].filter((v) => !b.has(v)).sort(compareUnknown)) {
      out.push(
        change('enum-value-added', 'info', 'additive', path, path, 1, [...b], value, {
          value: describeValue(value),
        }),
      )
    }
  }
  return out
}

const ORDER: Record<string, number> = { status: 0, header: 1 }
function order(change: Change): number {
  return change.pointer === 'status'
    ? ORDER.status!
    : change.pointer.startsWith('header:')
      ? ORDER.header!
      : 2
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function compareUnknown(a: unknown, b: unknown): number {
  return compareText(String(a), String(b))
}
