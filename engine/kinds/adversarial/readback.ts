/**
 * Write, then read back. A write's answer proves little about what the service kept: after a write that
 * carries fields the client must not set (mass assignment) or another principal's credentials, the
 * resource is read back with the sender's own read operation, and what stuck is the finding.
 *
 * The read operation of a write on `/p` is the block's `GET /p`; of a `POST /p`, the block's `GET /p/{x}`
 * with `x` taken from the answer (`/x`, else `/id`).
 */
import { isDeepStrictEqual } from 'node:util'
import type { BehaviourEnv, BehaviourFinding } from './behaviour.js'
import { buildCase, type Base, type Case } from './cases.js'
import { schemaTypes, flatten, type Schema } from './schemas.js'
import type { Outcome } from './session.js'

const WRITES = new Set(['POST', 'PUT', 'PATCH'])

/** How to read back what a write on `base` changed. */
export interface ReadBack {
  read: Base
  /** The read path's parameter filled from the write's answer (a `POST` that creates). */
  fromAnswer?: string
}

/** The block's read operation for a write target, when there is one. */
export function readBackOf(base: Base, bases: readonly Base[]): ReadBack | undefined {
  const t = base.target
  if (!WRITES.has(t.method) || !base.body || typeof base.body !== 'object' || Array.isArray(base.body))
    return undefined
  const gets = bases.filter(
    (b) => b.target.method === 'GET' && (b.target.service ?? '') === (t.service ?? ''),
  )
  const same = gets.find((b) => b.target.path === t.path)
  if (same) return { read: same }
  if (t.method !== 'POST') return undefined
  for (const b of gets) {
    const m = /^(.*)\/\{([^}]+)\}$/.exec(b.target.path)
    if (m && m[1] === t.path) return { read: b, fromAnswer: m[2]! }
  }
  return undefined
}

/** The read request of a read-back: the read base, its path parameter filled from the write's answer. */
export function readCase(readBack: ReadBack, write: Outcome | undefined, label: string): Case | undefined {
  let base = readBack.read
  if (readBack.fromAnswer !== undefined) {
    const answer = write?.exchange?.response.json() as Record<string, unknown> | undefined
    const id = answer?.[readBack.fromAnswer] ?? answer?.id
    const spec = base.target.params.find((p) => p.in === 'path' && p.name === readBack.fromAnswer)
    if (id === undefined || id === null || typeof id === 'object' || !spec) return undefined
    base = { ...base, params: new Map(base.params).set(spec, id) }
  }
  const c = buildCase(base, -1)
  return { ...c, kind: 'probe', description: label }
}

/** Privileged fields a client must not set, with values no account starts with. */
const PRIVILEGED: Record<string, unknown> = {
  role: 'admin',
  roles: ['admin'],
  isAdmin: true,
  is_admin: true,
  admin: true,
  verified: true,
  price: 0.01,
  balance: 999999,
}

/**
 * The fields a mass-assignment write adds to the valid body: the privileged names the body's schema does
 * not declare writable, and the properties it marks `readOnly`.
 */
export function massAssignmentFields(base: Base): Record<string, unknown> {
  const schema = flatten(base.target.body?.schema)
  const properties = (schema?.properties ?? {}) as Record<string, Schema>
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(PRIVILEGED))
    if (!properties[name] || properties[name].readOnly === true) out[name] = value
  for (const [name, prop] of Object.entries(properties)) {
    if (prop.readOnly !== true || name in out) continue
    const types = schemaTypes(prop)
    out[name] = types.includes('boolean')
      ? true
      : types.includes('integer') || types.includes('number')
        ? 987654
        : types.includes('string')
          ? 'vigil-read-only'
          : undefined
    if (out[name] === undefined) delete out[name]
  }
  return out
}

/** The objects a field may sit in: the answer, and each object directly inside it (`{ user: {…} }`). */
function holders(value: unknown): Array<Record<string, unknown>> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return []
  const top = value as Record<string, unknown>
  const inner = Object.values(top).filter(
    (v): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v),
  )
  return [top, ...inner]
}

/** The injected fields that the read shows with the injected value, and the read before did not. */
export function stuckFields(
  injected: Record<string, unknown>,
  before: unknown,
  after: unknown,
): Array<[string, unknown]> {
  const has = (value: unknown, key: string, expected: unknown) =>
    holders(value).some((h) => Object.hasOwn(h, key) && isDeepStrictEqual(h[key], expected))
  return Object.entries(injected).filter(([key, v]) => has(after, key, v) && !has(before, key, v))
}

/** A marker put into a foreign write's string fields: finding it on a read shows the write stuck. */
export function markStrings(body: unknown, marker: string): { body: unknown; marked: boolean } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { body, marked: false }
  let marked = false
  const out = Object.fromEntries(
    Object.entries(body).map(([k, v]) => {
      if (typeof v !== 'string') return [k, v]
      marked = true
      return [k, marker]
    }),
  )
  return { body: out, marked }
}

const ok = (o: Outcome | undefined) => {
  const status = o?.exchange?.response.status ?? 0
  return status >= 200 && status < 300
}

/**
 * Mass assignment: the valid write with privileged and read-only fields added, the resource read before
 * and after; the fields that now read back with the values sent are the finding.
 */
export async function massAssignmentProbe(env: BehaviourEnv, at: number): Promise<BehaviourFinding[]> {
  const base = env.session.bases[at]!
  const readBack = readBackOf(base, env.session.bases)
  const injected = readBack ? massAssignmentFields(base) : {}
  if (!readBack || Object.keys(injected).length === 0) return []
  const names = Object.keys(injected)
  const label = `mass assignment (${names.join(', ')})`
  let before: unknown = {}
  if (readBack.fromAnswer === undefined) {
    const read = await env.send(readCase(readBack, undefined, `${label}: read before`)!)
    if (!ok(read)) return []
    before = read!.exchange!.response.json()
  }
  const write = buildCase({ ...base, body: { ...(base.body as object), ...injected } }, -1)
  const sent = await env.send({ ...write, kind: 'probe', description: label })
  if (!ok(sent)) return []
  const after = readCase(readBack, sent, `${label}: read back`)
  const read = after && (await env.send(after))
  if (!ok(read)) return []
  const stuck = stuckFields(injected, before, read!.exchange!.response.json())
  if (stuck.length === 0) return []
  return [
    {
      oracle: 'read-back',
      messageId: 'mass-assignment',
      label,
      outcome: sent!,
      data: {
        match: stuck.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', '),
        leak: `${after!.request.method} ${after!.request.path.split('?')[0]}`,
      },
    },
  ]
}
