/**
 * A finding's stable id: a hash of what locates it — plan, check, step, message id, pointer and the
 * request's method and path template — and of nothing that changes from run to run (ports, generated ids,
 * timings), so the same plans, selection and seed give the same ids, and `vigil reproduce` finds a finding
 * of an earlier run again.
 */
import { createHash } from 'node:crypto'
import type { Finding } from '../verdict.js'

/** What an id is made of. */
export interface FindingKey {
  plan: string
  check: string
  step?: string
  messageId?: string
  /** Used when there is no messageId: the message with its numbers taken out. */
  message?: string
  pointer?: string
  /** `METHOD /path/{}` (see `pathTemplate`). */
  target?: string
  /** Set for a finding about the baseline side (a measurement of each side, say), so it is not the candidate's. */
  side?: 'baseline'
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A path segment that is a value rather than a name: a number, a uuid, hex, or a token mixing letters and digits. */
function isValueSegment(segment: string): boolean {
  if (segment === '') return false
  let decoded = segment
  try {
    decoded = decodeURIComponent(segment)
  } catch {
    // A malformed escape is kept as written.
  }
  return (
    /^-?\d+(\.\d+)?$/.test(decoded) ||
    UUID.test(decoded) ||
    /^[0-9a-f]{8,}$/i.test(decoded) ||
    (decoded.length >= 6 && /\d/.test(decoded) && /[A-Za-z]/.test(decoded)) ||
    decoded.length > 40
  )
}

/**
 * `/orders/ord_1f2e3d4c/items/7?x=1` → `/orders/{}/items/{}`: the query is dropped and every segment that
 * is a value becomes `{}`, so two runs (or two requests of one run) that differ only in ids share a template.
 */
export function pathTemplate(url: string): string {
  let pathname = url
  try {
    pathname = new URL(url, 'http://vigil.invalid').pathname
  } catch {
    pathname = url.split(/[?#]/)[0] ?? url
  }
  return pathname
    .split('/')
    .map((segment) => (isValueSegment(segment) ? '{}' : segment))
    .join('/')
}

/** `GET /orders/{}` of a finding's HTTP evidence, or undefined when it has no request. */
export function targetOf(finding: Pick<Finding, 'evidence'>): string | undefined {
  const request = (finding.evidence as { request?: { method?: unknown; url?: unknown } } | undefined)?.request
  if (typeof request?.method !== 'string' || typeof request.url !== 'string') return undefined
  return `${request.method.toUpperCase()} ${pathTemplate(request.url)}`
}

/** `f` and 12 hex digits of the key's sha256. */
export function findingId(key: FindingKey): string {
  const parts = [
    key.plan,
    key.check,
    key.step ?? '',
    key.messageId ?? (key.message ?? '').replace(/\d+/g, '#'),
    key.pointer ?? '',
    key.target ?? '',
    // Appended only when set, so that every candidate finding keeps the id it had before sides counted.
    ...(key.side ? [key.side] : []),
  ]
  return `f${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12)}`
}

/** The id of a finding of `plan`'s `check`, from its own fields. */
export function idOfFinding(plan: string, check: string, finding: Finding): string {
  const key: FindingKey = { plan, check }
  if (finding.step !== undefined) key.step = finding.step
  if (finding.messageId !== undefined) key.messageId = finding.messageId
  else key.message = finding.message
  if (finding.pointer !== undefined) key.pointer = finding.pointer
  const target = targetOf(finding)
  if (target !== undefined) key.target = target
  if ((finding.evidence as { sandbox?: unknown } | undefined)?.sandbox === 'baseline') key.side = 'baseline'
  return findingId(key)
}
