/** Which response headers the comparison looks at, and how. */

/**
 * Headers that differ between any two calls (dates, request and trace ids, sizes, caching
 * validators): never compared unless a plan names them in `compare.headers`.
 */
export const VOLATILE_HEADERS: readonly string[] = [
  'age',
  'b3',
  'connection',
  'content-length',
  'date',
  'etag',
  'expires',
  'keep-alive',
  'last-modified',
  'request-id',
  'server-timing',
  'set-cookie',
  'traceparent',
  'tracestate',
  'transfer-encoding',
  'uber-trace-id',
  'x-amzn-trace-id',
  'x-b3-*',
  'x-cloud-trace-context',
  'x-correlation-id',
  'x-ratelimit-*',
  'x-request-id',
  'x-response-time',
  'x-span-id',
  'x-trace-id',
]

const volatile = VOLATILE_HEADERS.map((h) => (h.endsWith('*') ? { prefix: h.slice(0, -1) } : { name: h }))

export function isVolatileHeader(name: string): boolean {
  const lower = name.toLowerCase()
  return volatile.some((v) => ('prefix' in v ? lower.startsWith(v.prefix!) : lower === v.name))
}

/** `application/json; charset=utf-8` → `application/json`. */
export function mediaType(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  return value.split(';')[0]!.trim().toLowerCase() || undefined
}

/**
 * True when a media type matches an expected one: exact, `application/*`, `*\/*`, or a structured
 * suffix (`application/problem+json` matches `application/json`).
 */
export function mediaTypeMatches(actual: string | undefined, expected: string): boolean {
  const want = mediaType(expected)
  if (actual === undefined || want === undefined) return false
  if (want === '*/*' || want === actual) return true
  const [wantType, wantSub] = want.split('/')
  const [type, sub] = actual.split('/')
  if (wantType !== type) return false
  if (wantSub === '*') return true
  return sub !== undefined && wantSub !== undefined && sub.endsWith(`+${wantSub}`)
}

export interface HeaderDifference {
  name: string
  kind: 'removed' | 'added' | 'changed'
  baseline?: string
  candidate?: string
}

/**
 * Differences of the headers worth comparing: all but the volatile ones, or exactly `only` when given.
 * `content-type` compares its media type only (a charset parameter is not a contract change).
 */
export function diffHeaders(
  baseline: Readonly<Record<string, string>>,
  candidate: Readonly<Record<string, string>>,
  only?: readonly string[],
): HeaderDifference[] {
  const wanted = only?.map((h) => h.toLowerCase())
  const names = new Set([...Object.keys(baseline), ...Object.keys(candidate)])
  const out: HeaderDifference[] = []
  for (const name of [...names].sort()) {
    if (wanted ? !wanted.includes(name) && name !== 'content-type' : isVolatileHeader(name)) continue
    const b = baseline[name]
    const c = candidate[name]
    if (b === undefined && c !== undefined) out.push({ name, kind: 'added', candidate: c })
    else if (b !== undefined && c === undefined) out.push({ name, kind: 'removed', baseline: b })
    else if (b !== undefined && c !== undefined) {
      const same = name === 'content-type' ? mediaType(b) === mediaType(c) : b === c
      if (!same) out.push({ name, kind: 'changed', baseline: b, candidate: c })
    }
  }
  return out
}
