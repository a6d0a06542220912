/**
 * Rate limits: the valid request of an authentication or one-time-code operation sent again and again with
 * a wrong secret. No 429 (or 423, or a `retry-after`) and no slowdown after the attempts is a warning.
 */
import type { BehaviourEnv, BehaviourFinding } from './behaviour.js'
import { buildCase } from './cases.js'
import type { Outcome } from './session.js'

/** Operations that guess-by-repetition attacks aim at, by operationId or path. */
const AUTH_OPERATION = /log-?in|sign-?in|token|otp|one-?time|mfa|2fa|passcode|verify/i
/** Fields holding the secret that a guess replaces. */
export const SECRET_FIELD = /pass(word)?|code|otp|pin|secret/i

/** Failed attempts sent when the block does not say. */
export const DEFAULT_ATTEMPTS = 20

/** The valid body with every secret-like string field set to a wrong value. */
export function withWrongSecrets(body: unknown, wrong: string): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body
  return Object.fromEntries(
    Object.entries(body).map(([k, v]) => [k, typeof v === 'string' && SECRET_FIELD.test(k) ? wrong : v]),
  )
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

function limited(o: Outcome): boolean {
  const r = o.exchange?.response
  return !!r && (r.status === 429 || r.status === 423 || r.headers['retry-after'] !== undefined)
}

export async function rateLimitProbe(env: BehaviourEnv, at: number): Promise<BehaviourFinding[]> {
  const setting = env.params.rateLimit
  if (setting === false) return []
  const base = env.session.bases[at]!
  const t = base.target
  const chosen = setting?.operations
    ? setting.operations.includes(t.id)
    : t.method === 'POST' && (AUTH_OPERATION.test(t.id) || AUTH_OPERATION.test(t.path))
  if (!chosen) return []
  const attempts = setting?.attempts ?? DEFAULT_ATTEMPTS
  const label = `rate limit: ${attempts} failed attempts`
  const outcomes: Outcome[] = []
  for (let i = 0; i < attempts; i++) {
    const c = buildCase({ ...base, body: withWrongSecrets(base.body, `vigil-wrong-${i}`) }, -1)
    const o = await env.send({ ...c, kind: 'probe', description: label })
    if (!o?.exchange) return []
    if (limited(o)) return []
    outcomes.push(o)
  }
  const times = outcomes.map((o) => o.exchange!.response.durationMs)
  const first = median(times.slice(0, 5))
  const last = median(times.slice(-5))
  if (last >= 2 * first && last - first >= 250) return []
  const statuses = [...new Set(outcomes.map((o) => o.exchange!.response.status))].join(', ')
  return [
    {
      oracle: 'rate-limit',
      messageId: 'rate-limit',
      label,
      outcome: outcomes.at(-1)!,
      data: {
        match: `${attempts} attempts answered ${statuses}, the last five in ${Math.round(last)} ms (the first five ${Math.round(first)} ms)`,
      },
    },
  ]
}
