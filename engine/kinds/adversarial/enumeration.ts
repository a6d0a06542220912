/**
 * Enumeration: the valid request of an operation that names an account (a `username`, `email`, `login` …
 * field or parameter) sent for that account, for one that does not exist, and for the first again. When
 * the two answers for the existing account agree and the missing one's differs — in status, or in body
 * once the values sent are cut out and digits masked — an attacker can tell which accounts exist. A secret
 * field (password, code) is wrong in all three, so a login compares two failures.
 *
 * When the answers read the same, their times may not: a login that hashes the password only for an
 * account that exists answers a missing one at once. The two accounts are then asked in turn, TIMED_PAIRS
 * more times each; when every answer for one is slower than three times the other's slowest, and by at
 * least TIMING_GAP_MS, the accounts can be told apart by time alone: a warning (`enumeration-timing`),
 * since a busy machine can only hide such a gap, never make one this consistent.
 */
import { createHash } from 'node:crypto'
import type { BehaviourEnv, BehaviourFinding } from './behaviour.js'
import { buildCase, type Base } from './cases.js'
import { withoutEchoes } from './content.js'
import { sentBy } from './leaks.js'
import { withWrongSecrets } from './rate-limit.js'
import type { Outcome } from './session.js'

/** Extra turns of the two accounts when their answers read the same. */
const TIMED_PAIRS = 4
/** The least gap, in ms, between the slower account's fastest answer and the other's slowest. */
const TIMING_GAP_MS = 100

const ACCOUNT_FIELD = /^(user(_?name)?|e-?mail|login|account|handle)$/i

function accountSite(base: Base): { name: string; value: string; with(v: string): Base } | undefined {
  const body = base.body as Record<string, unknown> | undefined
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const name = Object.keys(body).find((k) => ACCOUNT_FIELD.test(k) && typeof body[k] === 'string')
    if (name)
      return {
        name: `/${name}`,
        value: body[name] as string,
        with: (v) => ({ ...base, body: withWrongSecrets({ ...body, [name]: v }, 'vigil-wrong-secret') }),
      }
  }
  for (const spec of base.target.params) {
    const value = base.params.get(spec)
    if (spec.in === 'query' && ACCOUNT_FIELD.test(spec.name) && typeof value === 'string')
      return {
        name: `query ${spec.name}`,
        value,
        with: (v) => ({ ...base, params: new Map(base.params).set(spec, v) }),
      }
  }
  return undefined
}

/** What an answer says, without the values sent and with numbers masked (ids, times). */
function gist(o: Outcome): string {
  const r = o.exchange!.response
  const body = withoutEchoes(r.body, sentBy(o.case.request))
  return `${r.status}\n${body.replace(/\d+/g, '0')}`
}

export async function enumerationProbe(env: BehaviourEnv, at: number): Promise<BehaviourFinding[]> {
  const base = env.session.bases[at]!
  const site = accountSite(base)
  if (!site) return []
  const tag = createHash('sha256').update(`${env.seed}:${base.target.id}`).digest('hex').slice(0, 10)
  const missing = site.value.includes('@') ? `vigil-${tag}@example.invalid` : `vigil${tag}`
  const label = `enumeration: ${site.name} an existing account, then a missing one`
  const send = async (value: string) => {
    const c = buildCase(site.with(value), -1)
    return env.send({ ...c, kind: 'probe', description: label })
  }
  const first = await send(site.value)
  const absent = await send(missing)
  const again = await send(site.value)
  if (!first?.exchange || !absent?.exchange || !again?.exchange) return []
  // The existing account's two answers differ: the operation is not stable enough to compare.
  if (gist(first) !== gist(again)) return []
  if (gist(first) === gist(absent))
    return timingApart(
      site.name,
      () => send(site.value),
      () => send(missing),
      [first, again],
      absent,
    )
  const s1 = first.exchange.response.status
  const s2 = absent.exchange.response.status
  return [
    {
      oracle: 'enumeration',
      messageId: 'enumeration',
      label,
      outcome: absent,
      data: {
        match:
          s1 !== s2
            ? `the existing account got ${s1}, the missing one ${s2}`
            : `both got ${s1}, with different bodies`,
      },
    },
  ]
}

/** The same answers in clearly different times: the finding, or nothing. */
async function timingApart(
  where: string,
  sendExisting: () => Promise<Outcome | undefined>,
  sendMissing: () => Promise<Outcome | undefined>,
  existing: Outcome[],
  absent: Outcome,
): Promise<BehaviourFinding[]> {
  const missing = [absent]
  for (let i = 0; i < TIMED_PAIRS; i++) {
    const a = await sendExisting()
    const b = await sendMissing()
    if (!a?.exchange || !b?.exchange) return []
    existing.push(a)
    missing.push(b)
  }
  const ms = (os: Outcome[]) => os.map((o) => o.exchange!.response.durationMs)
  const [e, m] = [ms(existing), ms(missing)]
  const apart = (slow: number[], fast: number[]) =>
    Math.min(...slow) >= 3 * Math.max(...fast) && Math.min(...slow) - Math.max(...fast) >= TIMING_GAP_MS
  const range = (xs: number[]) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))} ms`
  if (!apart(e, m) && !apart(m, e)) return []
  return [
    {
      oracle: 'enumeration',
      messageId: 'enumeration-timing',
      label: `enumeration: ${where} an existing account and a missing one, in turn, timed`,
      outcome: missing[missing.length - 1]!,
      data: {
        match: `the same answer, but the existing account's took ${range(e)} and the missing one's ${range(m)} (${e.length} each)`,
      },
    },
  ]
}
