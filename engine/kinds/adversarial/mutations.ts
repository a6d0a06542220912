/**
 * The mutation kinds: for each, which sites it applies to and a fast-check arbitrary of what it does
 * there. A case is one mutation of one target's valid request; fast-check draws its specifics from the
 * case's seed, so the same seed and index always give the same mutation.
 */
import fc from 'fast-check'
import {
  BOOLEAN_PAIR,
  HUGE_NUMBERS,
  INJECTIONS,
  MALFORMED,
  NOSQL_OPERATORS,
  PROTO_KEYS,
  RawJson,
  SWEEP_FAMILIES,
  UNICODE_EDGES,
  WRONG_CONTENT_TYPES,
  hugeNumber,
} from './catalog.js'
import { validArb, wrongTypeArb } from './arbitrary.js'
import { boundaryArb, hasBoundaries } from './boundaries.js'
import { schemaTypes } from './schemas.js'
import type { BodySite, ParamSite, Site } from './sites.js'
import { lastToken, parent as parentOf } from '../../api/pointer.js'
import { withInternalEntity, type BodyEncoding } from './encodings.js'

/**
 * Any code points, lone surrogates included. Drawn as integers: fast-check's `binary` string unit builds a
 * table of every code point first, half a second of start-up for each process.
 */
const RANDOM_CODE_POINTS = fc
  .array(fc.integer({ min: 0, max: 0x10ffff }), { minLength: 1, maxLength: 12 })
  .map((points) => String.fromCodePoint(...points))

/** A long run of one ASCII letter, written raw: JSON.stringify would scan a megabyte for escapes. */
function longString(length: number): RawJson {
  const value = repeated('A', length)
  return new RawJson(['"', value, '"'], { value }, true)
}

const runs = new Map<string, string>()
/**
 * `char` repeated `length` times, sliced from one string built per character and size class: V8 slices
 * without copying, and these run to a megabyte.
 */
function repeated(char: string, length: number): string {
  let run = runs.get(char)
  if (run === undefined || run.length < length) {
    run = char.repeat(Math.max(length, 1 << 20))
    runs.set(char, run)
  }
  return run.slice(0, length)
}

export const MUTATION_KINDS = [
  'valid',
  'wrong-type',
  'missing-required',
  'extra-field',
  'boundary',
  'empty',
  'oversized',
  'huge-number',
  'deep-nesting',
  'malformed-json',
  'wrong-content-type',
  'unicode',
  'injection',
  'xml-entity',
] as const
export type MutationKind = (typeof MUTATION_KINDS)[number]

/** What a mutation does to the valid request. */
export type Change =
  | { on: 'body'; pointer: string; value: unknown }
  | { on: 'body'; pointer: string; remove: true }
  | { on: 'body-keys'; pointer: string; keys: Record<string, unknown> }
  | { on: 'body-text'; text: string | Buffer; contentType?: string | null }
  | { on: 'param'; spec: ParamSite['spec']; value: unknown }
  | { on: 'param'; spec: ParamSite['spec']; remove: true }
  | { on: 'extra-query'; name: string; value: string }

export interface Mutation {
  kind: MutationKind
  change: Change
  /** One phrase: what the case sends, e.g. `/items/0/quantity = 0 (below minimum 1)`. */
  description: string
  /** The injection family, for injection cases. */
  family?: string
  /** Half of a boolean pair (the same condition made always true, then always false). */
  pair?: 'truthy' | 'falsy'
}

export interface KindContext {
  /** The valid body as the target's encoding writes it (for the text-level kinds). */
  bodyText?: string
  /** How the target's body is written. @default json */
  encoding?: BodyEncoding
  /** The root element of an XML body. */
  xmlRoot?: string
  /** Largest body an oversized case may send. */
  maxBodyBytes: number
}

interface KindSpec {
  /** The sites the kind applies to (`[]`: it does not apply to this target); `encoding`: the body's. */
  sites(sites: readonly Site[], hasBody: boolean, encoding?: BodyEncoding): Site[]
  /** `round`: how many times this kind visited this target's sites before (rotates limits). */
  arbitrary(site: Site, ctx: KindContext, round: number): fc.Arbitrary<Mutation>
}

const at = (site: Site) =>
  site.on === 'body' ? site.pointer || '(body)' : `${site.spec.in} ${site.spec.name}`
const short = (value: unknown) => {
  // A long raw fragment is pieces of a megabyte: take its head without joining them.
  if (value instanceof RawJson && value.length > 40) return `${value.head(37)}… (${value.length} chars)`
  const text = value instanceof RawJson ? value.text : (JSON.stringify(value) ?? 'undefined')
  return text.length > 40 ? `${text.slice(0, 37)}… (${text.length} chars)` : text
}
const put = (kind: MutationKind, site: Site, value: unknown, note?: string): Mutation => ({
  kind,
  change:
    site.on === 'body'
      ? { on: 'body', pointer: site.pointer, value }
      : { on: 'param', spec: site.spec, value },
  description: `${at(site)} = ${short(value)}${note ? ` (${note})` : ''}`,
})

const body = (sites: readonly Site[]) => sites.filter((s): s is BodySite => s.on === 'body')
const params = (sites: readonly Site[]) => sites.filter((s): s is ParamSite => s.on === 'param')
const stringy = (s: Site) => {
  const types = schemaTypes(s.on === 'body' ? s.schema : s.spec.schema)
  return types.length === 0 ? typeof s.value === 'string' || s.on === 'param' : types.includes('string')
}
const isObjectSite = (s: BodySite) =>
  (s.value !== undefined && typeof s.value === 'object' && s.value !== null && !Array.isArray(s.value)) ||
  schemaTypes(s.schema).includes('object')

export const KINDS: Record<MutationKind, KindSpec> = {
  valid: {
    sites: (sites, hasBody) =>
      hasBody
        ? body(sites).filter((s) => s.pointer === '' && s.schema)
        : params(sites).filter((s) => s.spec.schema),
    arbitrary: (site) =>
      validArb(site.on === 'body' ? site.schema : site.spec.schema).map((value) =>
        put('valid', site, value, 'generated from the schema'),
      ),
  },
  'wrong-type': {
    sites: (sites) =>
      sites.filter(
        (s) =>
          schemaTypes(s.on === 'body' ? s.schema : s.spec.schema).length > 0 &&
          (s.on === 'param' || s.pointer !== ''),
      ),
    arbitrary: (site) => {
      const schema = site.on === 'body' ? site.schema : site.spec.schema
      return wrongTypeArb(schema).map((value) =>
        put('wrong-type', site, value, `expected ${schemaTypes(schema).join(' or ')}`),
      )
    },
  },
  'missing-required': {
    sites: (sites) => [
      ...body(sites).filter((s) => s.pointer !== '' && requiredAt(sites, s)),
      ...params(sites).filter((s) => s.spec.required && s.spec.in === 'query'),
    ],
    arbitrary: (site) =>
      fc.constant<Mutation>({
        kind: 'missing-required',
        change:
          site.on === 'body'
            ? { on: 'body', pointer: site.pointer, remove: true }
            : { on: 'param', spec: site.spec, remove: true },
        description: `${at(site)} left out (required)`,
      }),
  },
  'extra-field': {
    sites: (sites, hasBody) =>
      hasBody
        ? body(sites).filter(isObjectSite)
        : [sites[0] ?? { on: 'body', pointer: '', value: undefined }],
    arbitrary: (site, ctx) => {
      const name = fc.oneof(
        fc.constantFrom('isAdmin', 'role', 'owner', 'id', 'priceCents', 'status', 'debug'),
        fc.string({ minLength: 1, maxLength: 12 }),
      )
      const value = fc.oneof(fc.boolean(), fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null))
      if (site.on === 'body' && ctx.bodyText !== undefined) {
        return fc.tuple(name, value).map(([key, v]) => ({
          kind: 'extra-field' as const,
          change: { on: 'body-keys' as const, pointer: site.pointer, keys: { [key]: v } },
          description: `${site.pointer || '(body)'} gains unexpected field ${JSON.stringify(key)} = ${short(v)}`,
        }))
      }
      return fc.tuple(name, value).map(([key, v]) => ({
        kind: 'extra-field' as const,
        change: { on: 'extra-query' as const, name: key, value: String(v) },
        description: `unexpected query parameter ${JSON.stringify(key)} = ${JSON.stringify(String(v))}`,
      }))
    },
  },
  boundary: {
    sites: (sites) => sites.filter((s) => hasBoundaries(s.on === 'body' ? s.schema : s.spec.schema)),
    arbitrary: (site, _ctx, round) =>
      boundaryArb(site.on === 'body' ? site.schema! : site.spec.schema!, site.value, round).map((b) =>
        put('boundary', site, b.value, b.note),
      ),
  },
  empty: {
    sites: (sites) => sites.filter((s) => s.on === 'param' || s.pointer !== ''),
    arbitrary: (site) => {
      const types = schemaTypes(site.on === 'body' ? site.schema : site.spec.schema)
      const empties: unknown[] = site.on === 'param' ? [''] : ['', [], {}, null]
      const ordered = [
        ...empties.filter((e) => types.includes(Array.isArray(e) ? 'array' : e === null ? 'null' : typeof e)),
        ...empties,
      ]
      return fc.constantFrom(...ordered).map((value) => put('empty', site, value, 'empty'))
    },
  },
  oversized: {
    sites: (sites, hasBody) => [
      ...(hasBody
        ? body(sites).filter((s) => (s.pointer !== '' && stringy(s)) || (s.pointer === '' && isObjectSite(s)))
        : []),
      ...params(sites),
    ],
    arbitrary: (site, ctx) => {
      if (site.on === 'param')
        return fc
          .integer({ min: 2048, max: 12_000 })
          .map((n) => put('oversized', site, longString(n), `${n} characters`))
      const room = Math.max(1024, ctx.maxBodyBytes - (ctx.bodyText?.length ?? 0) - 64)
      return fc.integer({ min: Math.min(64 * 1024 + 1, room), max: room }).map((n): Mutation => {
        if (site.pointer === '') {
          return {
            kind: 'oversized',
            change: { on: 'body-keys', pointer: '', keys: { padding: longString(n) } },
            description: `(body) padded with a ${n}-character field`,
          }
        }
        return put('oversized', site, longString(n), `${n} characters`)
      })
    },
  },
  'huge-number': {
    sites: (sites) => sites.filter((s) => (s.on === 'param' || s.pointer !== '') && !stringy(s)),
    arbitrary: (site) =>
      fc
        .constantFrom(...HUGE_NUMBERS)
        .map((text) => put('huge-number', site, hugeNumber(text), 'beyond double precision or range')),
  },
  'deep-nesting': {
    sites: (sites, hasBody) => (hasBody ? body(sites) : []),
    arbitrary: (site, ctx) =>
      fc
        .tuple(
          fc.integer({ min: 1000, max: Math.max(1000, Math.min(100_000, Math.floor(ctx.maxBodyBytes / 8))) }),
          fc.boolean(),
        )
        .map(([depth, arrays]) => {
          const pieces = arrays
            ? [repeated('[', depth), repeated(']', depth)]
            : [repeated('{"a":', depth * 5), '1', repeated('}', depth)]
          return put(
            'deep-nesting',
            site,
            new RawJson(pieces, undefined, true),
            `${depth} levels of ${arrays ? 'arrays' : 'objects'}`,
          )
        }),
  },
  'malformed-json': {
    sites: (sites, hasBody) => (hasBody ? body(sites).filter((s) => s.pointer === '') : []),
    arbitrary: (_site, ctx) =>
      fc
        // Quotes and keys are JSON's: changing them may leave a form or an XML document well-formed.
        .constantFrom(...MALFORMED.filter((m) => !ctx.encoding || ctx.encoding === 'json' || !m.jsonOnly))
        .map((m) => ({
          kind: 'malformed-json' as const,
          change: { on: 'body-text' as const, text: m.make(ctx.bodyText ?? '{}') },
          description: `malformed ${FORMAT[ctx.encoding ?? 'json']}: ${m.name}`,
        })),
  },
  'wrong-content-type': {
    sites: (sites, hasBody) => (hasBody ? body(sites).filter((s) => s.pointer === '') : []),
    arbitrary: (_site, ctx) =>
      fc.constantFrom(...WRONG_CONTENT_TYPES).map((type) => ({
        kind: 'wrong-content-type' as const,
        change: { on: 'body-text' as const, text: ctx.bodyText ?? '{}', contentType: type },
        description:
          type === null
            ? `${FORMAT[ctx.encoding ?? 'json']} body without a content type`
            : `${FORMAT[ctx.encoding ?? 'json']} body sent as ${type}`,
      })),
  },
  unicode: {
    sites: (sites) => sites.filter((s) => (s.on === 'param' || s.pointer !== '') && stringy(s)),
    arbitrary: (site) =>
      fc
        .oneof(
          fc.constantFrom(...UNICODE_EDGES).map((u) => ({ value: u.value, note: u.name })),
          fc.constantFrom(...UNICODE_EDGES).map((u) => ({
            value: typeof site.value === 'string' ? site.value + u.value : u.value,
            note: `valid value + ${u.name}`,
          })),
          RANDOM_CODE_POINTS.map((value) => ({ value, note: 'random code points' })),
        )
        .map((u) => put('unicode', site, u.value, u.note)),
  },
  'xml-entity': {
    sites: (sites, hasBody, encoding) =>
      hasBody && encoding === 'xml' ? body(sites).filter((s) => s.pointer === '') : [],
    arbitrary: (_site, ctx) => {
      const mutation = xmlEntityMutation(ctx.bodyText ?? '', ctx.xmlRoot ?? 'root')
      // Without a text element there is nothing to refer to the entity: the valid document, unchanged.
      return fc.constant(
        mutation ?? {
          kind: 'xml-entity' as const,
          change: { on: 'body-text' as const, text: ctx.bodyText ?? '' },
          description: 'XML without a text element for an entity',
        },
      )
    },
  },
  injection: {
    sites: (sites) => sites.filter((s) => s.on === 'param' || s.pointer !== '' || isObjectSite(s)),
    arbitrary: (site) => {
      const strings = fc
        .constantFrom(...INJECTIONS)
        .map((i) => ({ ...put('injection', site, i.value, i.family), family: i.family }))
      if (site.on === 'param') return strings
      const operators = fc
        .constantFrom(...NOSQL_OPERATORS)
        .map((text) => put('injection', site, JSON.parse(text), 'NoSQL operator'))
      const proto = fc.constantFrom(...PROTO_KEYS).map((text): Mutation => ({
        kind: 'injection',
        change: { on: 'body-keys', pointer: site.pointer, keys: JSON.parse(text) as Record<string, unknown> },
        description: `${site.pointer || '(body)'} gains ${text} (prototype pollution)`,
      }))
      if (site.pointer === '') return proto
      return isObjectSite(site) ? fc.oneof(strings, operators, proto) : fc.oneof(strings, operators)
    },
  },
}

/** An encoding's name in a case's description. */
const FORMAT: Record<BodyEncoding, string> = { json: 'JSON', multipart: 'multipart', xml: 'XML' }

/** The XML body with an internal entity (see encodings.ts), as a mutation; undefined without a text element. */
export function xmlEntityMutation(bodyText: string, root: string): Mutation | undefined {
  const doc = withInternalEntity(bodyText, root)
  return (
    doc && {
      kind: 'xml-entity',
      change: { on: 'body-text', text: doc.text },
      description: `XML whose <${doc.field}> refers to an internal entity (is a document type definition read?)`,
    }
  )
}

/** True when the exhaustive sweep places injections at this site: a string parameter or body field. */
export function sweepable(site: Site): boolean {
  return (site.on === 'param' || site.pointer !== '') && stringy(site)
}

/**
 * The sweep's mutations of one site, in rounds: round 0 holds the boolean pair, an unbalanced quote and the
 * first value of every other family, round r the (r+1)-th value of each family that has one. A body field gets NoSQL operator
 * objects, a parameter their text.
 */
export function sweepRounds(site: Site): Mutation[][] {
  const valid = typeof site.value === 'string' ? site.value : ''
  const values = (family: string): unknown[] => {
    if (family === 'NoSQL' && site.on === 'body') return NOSQL_OPERATORS.map((t) => JSON.parse(t) as unknown)
    return INJECTIONS.filter((i) => i.family === family).map((i) => i.value)
  }
  const rounds: Mutation[][] = []
  const families = SWEEP_FAMILIES.map((family) => ({ family, values: values(family) }))
  const most = Math.max(...families.map((f) => f.values.length))
  for (let r = 0; r <= most; r++) {
    const round: Mutation[] = []
    for (const { family, values: list } of families) {
      if (family === 'SQL' && r === 0) {
        for (const half of ['truthy', 'falsy'] as const)
          round.push({
            ...put(
              'injection',
              site,
              valid + BOOLEAN_PAIR[half],
              `SQL, always ${half === 'truthy' ? 'true' : 'false'}`,
            ),
            family,
            pair: half,
          })
        // An unbalanced quote breaks a pasted query: the error-based probe is in the first round too.
        round.push({ ...put('injection', site, `${valid}'`, 'SQL, unbalanced quote'), family })
        continue
      }
      const value = family === 'SQL' ? list.filter((v) => v !== "'")[r - 1] : list[r]
      if (value !== undefined) round.push({ ...put('injection', site, value, family), family })
    }
    if (round.length) rounds.push(round)
  }
  return rounds
}

/** True when the body site is a required property of its parent object. */
function requiredAt(sites: readonly Site[], site: BodySite): boolean {
  if (site.value === undefined) return false
  const parentPointer = parentOf(site.pointer)
  const key = lastToken(site.pointer)
  const parent = body(sites).find((s) => s.pointer === parentPointer)
  const required = parent?.schema?.required
  return Array.isArray(required) && required.includes(key)
}
