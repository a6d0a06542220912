/**
 * Timing: catastrophic backtracking. A string field with a `pattern` is sent a growing run of one character
 * the pattern accepts, ended by one it does not (`aaaa…a!`): nested quantifiers take exponential time on it.
 * A case slower than a second and than ten times the valid request's slowest of three, twice in a row, is
 * the finding; a case cut by the per-case timeout counts as slow when that timeout is itself at least a
 * second and three times the valid request's slowest (a busy machine's slow valid answers must not put the
 * threshold out of reach). A slow answer that is not slow again is taken as the machine's, and the next,
 * longer run is tried: each two characters multiply the time by about four, so a real hole shows plainly.
 * The runs are built here and never checked against the pattern in this process.
 */
import fc from 'fast-check'
import type { BehaviourEnv, BehaviourFinding } from './behaviour.js'
import { buildCase, caseSeed, type Base, type Case } from './cases.js'
import { schemaTypes, type Schema } from './schemas.js'
import { timedOut, type Outcome } from './session.js'

/** Shortest and longest runs tried, growing by two characters. */
const RUN_FROM = 12
const RUN_TO = 48

interface PatternSite {
  where: string
  valid: string
  maxLength?: number
  with(value: string): Base
}

function patternSites(base: Base): PatternSite[] {
  const out: PatternSite[] = []
  const patterned = (s: Schema | undefined) =>
    !!s && typeof s.pattern === 'string' && schemaTypes(s).includes('string')
  for (const spec of base.target.params) {
    const value = base.params.get(spec)
    if (!patterned(spec.schema) || typeof value !== 'string') continue
    out.push({
      where: `${spec.in} ${spec.name}`,
      valid: value,
      ...(typeof spec.schema!.maxLength === 'number' ? { maxLength: spec.schema!.maxLength } : {}),
      with: (v) => ({ ...base, params: new Map(base.params).set(spec, v) }),
    })
  }
  const props = (base.target.body?.schema?.properties ?? {}) as Record<string, Schema>
  const body = base.body as Record<string, unknown> | undefined
  for (const [name, schema] of Object.entries(props)) {
    if (!patterned(schema) || typeof body?.[name] !== 'string') continue
    out.push({
      where: `/${name}`,
      valid: body[name] as string,
      ...(typeof schema.maxLength === 'number' ? { maxLength: schema.maxLength } : {}),
      with: (v) => ({ ...base, body: { ...body, [name]: v } }),
    })
  }
  return out
}

/** How long an answer took, and whether the per-case timeout cut it (then it took at least that). */
function elapsed(o: Outcome | undefined, caseTimeoutMs: number): { ms: number; cut: boolean } | undefined {
  if (!o) return undefined
  if (o.exchange) return { ms: o.exchange.response.durationMs, cut: false }
  return timedOut(o) ? { ms: caseTimeoutMs, cut: true } : undefined
}

export async function timingProbe(env: BehaviourEnv, at: number): Promise<BehaviourFinding[]> {
  const base = env.session.bases[at]!
  const sites = patternSites(base)
  if (sites.length === 0) return []
  const control = buildCase(base, -1)
  let slowest = 0
  for (let i = 0; i < 3; i++) {
    const took = elapsed(
      await env.send({ ...control, kind: 'probe', description: 'timing: the valid request' }),
      0,
    )
    if (took === undefined || took.cut) return []
    slowest = Math.max(slowest, took.ms)
  }
  const threshold = Math.max(1000, 10 * slowest)
  const slow = (t: { ms: number; cut: boolean } | undefined) =>
    t !== undefined && (t.ms >= threshold || (t.cut && t.ms >= Math.max(1000, 3 * slowest)))
  const out: BehaviourFinding[] = []
  for (const [i, site] of sites.entries()) {
    // The repeated character: one of the valid value's letters or digits, picked by the seed.
    const letters = [...new Set(site.valid.match(/[A-Za-z0-9]/g) ?? ['a'])]
    const [char] = fc.sample(fc.constantFrom(...letters), {
      seed: caseSeed(env.seed, 3_000_000 + at * 64 + i),
      numRuns: 1,
    })
    const longest = Math.min(RUN_TO, (site.maxLength ?? RUN_TO + 1) - 1)
    for (let length = RUN_FROM; length <= longest; length += 2) {
      const value = `${char!.repeat(length)}!`
      const label = `timing: ${site.where} = "${char}" × ${length} + "!" (catastrophic backtracking)`
      const c: Case = { ...buildCase(site.with(value), -1), kind: 'probe', description: label }
      const first = elapsed(await env.send(c), env.caseTimeoutMs)
      if (!slow(first)) continue
      // Reproduced before it is reported: one slow answer may be the machine's.
      const again = await env.send(c)
      const second = elapsed(again, env.caseTimeoutMs)
      if (!slow(second)) continue
      out.push({
        oracle: 'timing',
        messageId: 'timing',
        label,
        key: `timing: ${site.where}`,
        outcome: again!,
        data: {
          match: `${Math.round(first!.ms)} ms and ${Math.round(second!.ms)} ms`,
          leak: `${Math.round(slowest)} ms`,
        },
      })
      break
    }
  }
  return out
}
