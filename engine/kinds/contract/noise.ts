/**
 * Learned noise: what two baseline calls to one request disagree on, and what the candidate must still
 * keep there — the field itself, its JSON type and its format class (engine/api/comparison/). Declared
 * ignores are not noise: they are left out of learning and of every comparison.
 */
import type { Severity } from '../../verdict.js'
import { noiseClassChanges, valueClassChange } from '../../api/comparison/noise-class.js'
import { jsonType } from '../../api/values.js'
import { diffJson } from '../../api/comparison/diff.js'
import { diffHeaders } from './headers.js'
import { PointerMatcher } from '../../api/comparison/ignore.js'
import { change, type Change } from './changes.js'
import type { CompareOptions, ResponseSnapshot } from './compare.js'

/** What two baseline calls disagree on. */
export interface NoiseModel {
  /** Generalised pointers (array indices as `*`) whose values differ between baseline calls. */
  paths: string[]
  /** Arrays whose length differs between baseline calls. */
  lengths: string[]
  /** Header names that differ between baseline calls. */
  headers: string[]
  /** The status itself differs between baseline calls: nothing can be compared. */
  status: boolean
  /** The baseline responses it was learned from: the classes the candidate must keep. @default none */
  samples?: ResponseSnapshot[]
}

/** Learns the noise of one request from two baseline responses to it. */
export function learnNoise(
  primary: ResponseSnapshot,
  secondary: ResponseSnapshot,
  options: CompareOptions = {},
): NoiseModel {
  const samples = [primary, secondary]
  if (primary.status !== secondary.status)
    return { paths: [], lengths: [], headers: [], status: true, samples }
  const groups = diffJson(primary.body, secondary.body, {
    ignore: options.ignore?.length ? new PointerMatcher(options.ignore) : undefined,
    ignoreOrder: options.ignoreOrder,
    examples: 0,
  })
  const paths = new Set<string>()
  const lengths = new Set<string>()
  for (const group of groups) (group.kind === 'length' ? lengths : paths).add(group.path)
  const headers = diffHeaders(primary.headers, secondary.headers).map((h) => h.name)
  return { paths: [...paths].sort(), lengths: [...lengths].sort(), headers, status: false, samples }
}

/**
 * Changes at the noisy places of the body: a field every baseline call has that the candidate lacks and
 * a JSON type change are breaking; a changed format class has the `noiseClass` severity.
 */
export function noiseChanges(
  noise: NoiseModel,
  baseline: ResponseSnapshot,
  candidate: ResponseSnapshot,
  options: CompareOptions,
): Change[] {
  if (noise.paths.length === 0) return []
  const samples = (noise.samples ?? [baseline]).map((s) => s.body)
  const severity = options.noiseClass ?? 'warning'
  const out: Change[] = []
  for (const c of noiseClassChanges(samples, candidate.body, noise.paths)) {
    const at = (id: string, sev: Severity, klass: Change['classification'], data: Record<string, string>) =>
      out.push(change(id, sev, klass, c.pointer, c.path, c.count, c.baseline, c.candidate, data))
    if (c.kind === 'removed') at('field-removed', 'error', 'breaking', { rename: '' })
    else if (c.kind === 'type') {
      if (c.candidate === null) at('became-nullable', 'error', 'breaking', {})
      else at('type-changed', 'error', 'breaking', { from: jsonType(c.baseline), to: jsonType(c.candidate) })
    } else if (severity !== 'ignore') {
      at('noise-class-changed', severity, severity === 'error' ? 'breaking' : 'changed', {
        subject: `field ${c.count > 1 ? c.path : c.pointer}`,
        from: c.from,
        to: c.to,
      })
    }
  }
  return out
}

/**
 * A noisy header compared by class: `removed` when every baseline call sent it and the candidate does
 * not (the caller reports it as any removed header), a change when its class changed, else undefined.
 */
export function noiseHeaderChange(
  noise: NoiseModel,
  name: string,
  candidate: ResponseSnapshot,
  options: CompareOptions,
): Change | 'removed' | undefined {
  const values = (noise.samples ?? []).map((s) => s.headers[name])
  const found = valueClassChange(values, candidate.headers[name])
  if (!found) return undefined
  if (found.kind === 'removed') return 'removed'
  const severity = options.noiseClass ?? 'warning'
  if (severity === 'ignore') return undefined
  const pointer = `header:${name}`
  const example = values.find((v) => v !== undefined)
  return change(
    'noise-class-changed',
    severity,
    severity === 'error' ? 'breaking' : 'changed',
    pointer,
    pointer,
    1,
    example,
    candidate.headers[name],
    { subject: `header ${name}`, from: found.from, to: found.to },
  )
}
