/**
 * The plan's `suggested:` cases (written by `vigil adversary suggest`, reviewed by a person): explicit
 * requests with an expected status, sent verbatim — nothing generated, so the run stays deterministic.
 */
import type { Case } from './cases.js'
import { AdversarialUsageError } from './errors.js'
import type { SuggestedCase } from './params.js'
import type { Session } from './session.js'
import type { Target } from './targets.js'

export interface Suggested {
  name: string
  case: Case
  /** The expected statuses, as written (`400 or 4XX`). */
  expected: string
  accepts(status: number): boolean
}

/** True when `status` matches one of `expected` (`400`, `"4XX"`). */
export function statusAccepted(status: number, expected: SuggestedCase['expect']['status']): boolean {
  const list = Array.isArray(expected) ? expected : [expected]
  return list.some((e) => {
    const text = String(e).toUpperCase()
    return text === String(status) || (/^[1-5]XX$/.test(text) && text[0] === String(status)[0])
  })
}

export function suggestedCases(
  list: readonly SuggestedCase[],
  session: Session,
  targets: readonly Target[],
): Suggested[] {
  return list.map((s, i) => {
    const at = targets.findIndex((t) => t.id === s.operation)
    if (at < 0) {
      throw new AdversarialUsageError(
        `suggested[${i}] "${s.name}": unknown operation "${s.operation}"; expected one of ${targets.map((t) => t.id).join(', ')}`,
      )
    }
    const base = session.bases[at]!
    const path = String(session.render(s.request.path))
    if (!path.startsWith('/') || path.startsWith('//')) {
      throw new AdversarialUsageError(
        `suggested[${i}] "${s.name}": path "${path}" must be relative to the service`,
      )
    }
    const ownerNames = new Set(
      [...Object.keys(session.owner), ...Object.keys(base.credentials)].map((n) => n.toLowerCase()),
    )
    const headers = Object.fromEntries(
      Object.entries(base.headers).filter(([k]) => !ownerNames.has(k.toLowerCase())),
    )
    const auth = s.auth ?? 'owner'
    if (auth === 'owner') Object.assign(headers, session.owner)
    if (auth === 'other') Object.assign(headers, session.other ?? {})
    Object.assign(headers, session.render(s.request.headers ?? {}))
    let body: string | undefined
    if (s.request.json !== undefined) body = JSON.stringify(session.render(s.request.json))
    else if (s.request.body !== undefined) body = s.request.body
    if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type'))
      headers['content-type'] = s.request.contentType ?? 'application/json'
    else if (s.request.contentType) headers['content-type'] = s.request.contentType
    const expected = (Array.isArray(s.expect.status) ? s.expect.status : [s.expect.status]).join(' or ')
    const c: Case = {
      index: -1,
      target: base.target,
      kind: 'suggested',
      description: s.name,
      invalid: undefined,
      oversized: false,
      request: {
        method: s.request.method.toUpperCase(),
        path,
        headers,
        ...(body !== undefined ? { body } : {}),
      },
    }
    return {
      name: s.name,
      case: c,
      expected,
      accepts: (status: number) => statusAccepted(status, s.expect.status),
    }
  })
}
