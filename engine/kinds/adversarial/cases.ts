/**
 * Case generation. A case is one mutation of one target's valid request, fully determined by the seed
 * and its index: case `i` belongs to category `i mod C` (a target and a mutation kind), visits that
 * category's sites in turn, and fast-check draws the rest from a seed derived from (seed, i). So any
 * single case can be regenerated alone, and two runs with one seed send byte-identical requests.
 */
import fc from 'fast-check'
import { validArb } from './arbitrary.js'
import {
  KINDS,
  MUTATION_KINDS,
  sweepable,
  sweepRounds,
  type Change,
  type KindContext,
  type Mutation,
  xmlEntityMutation,
  type MutationKind,
} from './mutations.js'
import { schemaTypes } from './schemas.js'
import {
  bodySites,
  hasOpaqueRaw,
  parsedForm,
  serialize,
  serializeParts,
  setAt,
  wire,
  withKeys,
  type Site,
  type TextPart,
} from './sites.js'
import type { ParamSpec, Target } from './targets.js'
import { encodeAs, typedText, wireForm } from './encodings.js'
import { get as getPointer } from '../../api/pointer.js'

/** A target's valid request for one sandbox: templates rendered, credentials attached. */
export interface Base {
  target: Target
  /** The path with templates rendered; OpenAPI `{params}` still in it. */
  path: string
  /** Parameter values by `in:name` (undefined: left out). */
  params: Map<ParamSpec, unknown>
  body?: unknown
  headers: Record<string, string>
  /** The credentials among `headers` (the sending principal's; empty when the target needs none). */
  credentials: Record<string, string>
}

export interface CaseRequest {
  method: string
  /** Path and query string, percent-encoded, relative to the service. */
  path: string
  headers: Record<string, string>
  body?: string | Buffer
  /** A form's or an XML document's fields as the service reads them: its strings are echoes too. */
  values?: unknown
}

export interface Case {
  /** Position in the run's sequence of generated cases; -1 for a target's unmutated control request. */
  index: number
  target: Target
  /** The mutation; `control` for a target's valid request, `probe` for an authorization probe, `suggested` for a plan's explicit case. */
  kind: MutationKind | 'control' | 'probe' | 'suggested'
  /** What the case sends, in a phrase. */
  description: string
  /** Body pointer the mutation touched, when it touched one. */
  pointer?: string
  /** true: the schema rejects the request; false: it accepts it; undefined: the schema cannot tell. */
  invalid: boolean | undefined
  /** The request is large on purpose (the server may cut the connection). */
  oversized: boolean
  request: CaseRequest
  /** The injection family, for injection cases. */
  family?: string
  /** Half of a boolean pair: the differential oracle compares it with the other half at the same site. */
  pair?: 'truthy' | 'falsy'
  /** The site the mutation touched: a body pointer or `query name`, `path id`. */
  site?: string
}

/** A 32-bit seed for one case, from the check's seed and the case index (murmur3's finalizer). */
export function caseSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function stableHash(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/** Renders a target's valid request; required parameters nobody gave a value get a generated valid one. */
export function prepareBase(
  target: Target,
  render: <T>(value: T) => T,
  seed: number,
  credentials: Record<string, string>,
): Base {
  const params = new Map<ParamSpec, unknown>()
  for (const spec of target.params) {
    let value = spec.base === undefined ? undefined : render(spec.base)
    if (value === undefined && spec.required) {
      const [generated] = fc.sample(validArb(spec.schema), {
        seed: caseSeed(seed, stableHash(`${target.id}:${spec.name}`)),
        numRuns: 1,
      })
      value = generated
    }
    params.set(spec, value)
  }
  const base: Base = {
    target,
    path: render(target.path),
    params,
    headers: { ...render(target.headers), ...(target.auth ? credentials : {}) },
    credentials: target.auth ? credentials : {},
  }
  if (target.body) base.body = render(target.body.example)
  return base
}

/** Lone surrogates cannot travel in UTF-8; they go as U+FFFD, and are judged as such. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
}

/** Path and query of a request, with values percent-encoded. */
export function renderPath(base: Base, params: Map<ParamSpec, unknown>, extra?: [string, string]): string {
  let path = base.path.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const spec = base.target.params.find((p) => p.in === 'path' && p.name === name)
    return spec ? encodeURIComponent(wellFormed(wire(params.get(spec) ?? ''))) : whole
  })
  const query = new URLSearchParams()
  for (const spec of base.target.params) {
    const value = params.get(spec)
    if (spec.in !== 'query' || value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) query.append(spec.name, wire(v))
  }
  if (extra) query.append(extra[0], extra[1])
  const search = query.toString()
  if (search) path += (path.includes('?') ? '&' : '?') + search
  return path
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function textValidity(
  text: string | Buffer,
  base: Base,
  contentType: string | null | undefined,
): boolean | undefined {
  const spec = base.target.body!
  if (contentType !== undefined) {
    const type = contentType?.split(';')[0]!.trim().toLowerCase()
    if (!type || !spec.mediaTypes.some((m) => m.toLowerCase() === type)) return true
  }
  let decoded: string
  try {
    decoded = typeof text === 'string' ? text : utf8.decode(text)
  } catch {
    return true
  }
  if (decoded.trim() === '') return spec.required ? true : false
  if (spec.encoding !== 'json') {
    // Multipart under another boundary (or none) cannot be read; the valid text is valid; other XML is
    // malformed, while other multipart may still be read (an epilogue, say): the schema cannot tell.
    if (spec.encoding === 'multipart' && contentType !== undefined && contentType !== spec.contentType)
      return true
    if (decoded === bodyTextOf(base)) return false
    return spec.encoding === 'xml' ? true : undefined
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(decoded)
  } catch {
    return true
  }
  return spec.validate ? !spec.validate(parsed) : undefined
}

/** The valid body as the target's encoding writes it. */
export function bodyTextOf(base: Base): string {
  const spec = base.target.body!
  return spec.encoding === 'json'
    ? serialize(base.body)
    : encodeAs(spec.encoding, base.body, spec.xmlRoot ?? 'root')
}

const basePaths = new WeakMap<Base, string>()

/** The valid request's path and query, rendered once per base: most mutations leave them as they are. */
function basePath(base: Base): string {
  let path = basePaths.get(base)
  if (path === undefined) basePaths.set(base, (path = renderPath(base, base.params)))
  return path
}

/** Bodies longer than this (in UTF-16 units) are sent as bytes. */
const ENCODE_AT = 64 * 1024

/**
 * A body from its pieces. A long one is encoded here, once, piece by piece, into one Buffer: as a string it
 * would be joined into a flat copy and then encoded into another when sent, a megabyte each. ASCII pieces
 * (the long runs) are copied as Latin-1, several times faster than measuring and encoding them as UTF-8.
 */
function encodeBody(parts: readonly TextPart[]): string | Buffer {
  let length = 0
  for (const part of parts) length += part.text.length
  if (length <= ENCODE_AT) {
    let text = parts[0]?.text ?? ''
    for (let i = 1; i < parts.length; i++) text += parts[i]!.text
    return text
  }
  let size = 0
  for (const part of parts) size += part.ascii ? part.text.length : Buffer.byteLength(part.text)
  const bytes = Buffer.allocUnsafe(size)
  let offset = 0
  for (const part of parts) offset += bytes.write(part.text, offset, part.ascii ? 'latin1' : 'utf8')
  return bytes
}

/** Builds the request a mutation (or none: the control) makes of a base, and judges it against the schemas. */
export function buildCase(base: Base, index: number, mutation?: Mutation, site?: Site): Case {
  const { target } = base
  const change: Change | undefined = mutation?.change
  const params = new Map(base.params)
  let invalid: boolean | undefined = false
  let extra: [string, string] | undefined
  if (change?.on === 'param') {
    if ('remove' in change) {
      params.set(change.spec, undefined)
      invalid = change.spec.required ? true : false
    } else {
      params.set(change.spec, change.value)
      invalid = change.spec.validate
        ? !change.spec.validate(typedText(wellFormed(wire(change.value)), change.spec.schema))
        : undefined
    }
  } else if (change?.on === 'extra-query') extra = [change.name, change.value]
  const headers = { ...base.headers }
  let body: string | Buffer | undefined
  let values: unknown
  if (target.body) {
    const spec = target.body
    let contentType: string | null = spec.contentType
    if (change?.on === 'body-text') {
      body = change.text
      if (change.contentType !== undefined) contentType = change.contentType
      // Whether a document type definition is read is for the content oracles, not the schema.
      invalid =
        mutation?.kind === 'xml-entity' ? undefined : textValidity(change.text, base, change.contentType)
    } else {
      let value = base.body
      if (change?.on === 'body')
        value = setAt(value, change.pointer, 'remove' in change ? { remove: true } : { value: change.value })
      else if (change?.on === 'body-keys') {
        const current = change.pointer === '' ? value : getPointer(value, change.pointer)
        const widened = withKeys(current, change.keys)
        value = change.pointer === '' ? widened : setAt(value, change.pointer, { value: widened })
      }
      const changed = change?.on === 'body' || change?.on === 'body-keys'
      if (spec.encoding !== 'json') {
        body = encodeAs(spec.encoding, value, spec.xmlRoot ?? 'root')
        // Judged on what the service parses out of the form or the document.
        values = wireForm(spec.encoding, value, spec.schema)
        if (changed) invalid = spec.validate ? !spec.validate(values) : undefined
      } else {
        body = encodeBody(serializeParts(value))
        if (changed && hasOpaqueRaw(value)) {
          const types = schemaTypes(site?.on === 'body' ? site.schema : undefined)
          invalid = types.length && !types.includes('array') && !types.includes('object') ? true : undefined
        } else if (changed) invalid = spec.validate ? !spec.validate(parsedForm(value)) : undefined
      }
    }
    if (contentType === null) delete headers['content-type']
    else headers['content-type'] = contentType
  }
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit: count bytes only when the length cannot decide.
  const size =
    body === undefined
      ? 0
      : typeof body !== 'string'
        ? body.length
        : body.length > 64 * 1024 || body.length <= (64 * 1024) / 3
          ? body.length
          : Buffer.byteLength(body)
  const path = change?.on === 'param' || extra ? renderPath(base, params, extra) : basePath(base)
  const out: Case = {
    index,
    target,
    kind: mutation?.kind ?? 'control',
    description: mutation?.description ?? 'the valid request',
    invalid,
    oversized: size > 64 * 1024 || path.length > 2048,
    request: {
      method: target.method,
      path,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(values !== undefined ? { values } : {}),
    },
  }
  if (change && 'pointer' in change) out.pointer = change.pointer
  if (mutation?.family) out.family = mutation.family
  if (mutation?.pair) out.pair = mutation.pair
  if (site) out.site = site.on === 'body' ? site.pointer : `${site.spec.in} ${site.spec.name}`
  return out
}

/**
 * Building an arbitrary (a regex, a schema's record) costs far more than drawing from it, so each is built
 * once per target — and reused by the baseline's replay. Keyed by the target object: an arbitrary holds on
 * to its target's parameter objects.
 */
const arbitraries = new WeakMap<Target, Map<string, fc.Arbitrary<Mutation>>>()
const MAX_CACHED = 4096

/** Where a base can be mutated: its body's sites, then its parameters. */
function sitesOf(base: Base): Site[] {
  return [
    ...(base.target.body ? bodySites(base.body, base.target.body.schema) : []),
    ...base.target.params.map((spec) => ({ on: 'param' as const, spec, value: base.params.get(spec) })),
  ]
}

interface Category {
  base: Base
  kind: MutationKind
  sites: Site[]
  bodyText?: string
}

/**
 * The generated cases of a run: any index on demand, from the bases and the seed. The first indices are
 * the sweep — every injection family on every string parameter and body field of every target, the first
 * value of each family before the second of any — up to half the planned cases (never less than one full
 * round); sampling fills the rest, so a finding does not hang on which site a seed put a payload.
 */
export class CaseGenerator {
  readonly categories: Category[] = []
  /** The sweep's cases in order, as (base, site, mutation). */
  readonly sweep: Array<{ base: Base; site: Site; mutation: Mutation }> = []

  constructor(
    readonly bases: readonly Base[],
    readonly seed: number,
    readonly maxBodyBytes: number,
    /** The cases the run plans: the sweep takes at most half of them, or one full round. */
    planned = Number.POSITIVE_INFINITY,
  ) {
    const perSite = bases.flatMap((base) =>
      sitesOf(base)
        .filter(sweepable)
        .map((site) => ({ base, site, rounds: sweepRounds(site) })),
    )
    // An XML body's internal entity leads the sweep: one case per target that takes XML.
    const full: typeof this.sweep = bases.flatMap((base) => {
      const spec = base.target.body
      const mutation =
        spec?.encoding === 'xml' ? xmlEntityMutation(bodyTextOf(base), spec.xmlRoot ?? 'root') : undefined
      return mutation
        ? [{ base, site: { on: 'body' as const, pointer: '', value: base.body }, mutation }]
        : []
    })
    let firstRound = 0
    for (let r = 0; perSite.some((s) => s.rounds.length > r); r++) {
      for (const { base, site, rounds } of perSite)
        for (const mutation of rounds[r] ?? []) full.push({ base, site, mutation })
      if (r === 0) firstRound = full.length
    }
    this.sweep = full.slice(0, Math.max(firstRound, Math.floor(planned / 2)))
    for (const base of bases) {
      const sites = sitesOf(base)
      const bodyText = base.target.body ? bodyTextOf(base) : undefined
      for (const kind of MUTATION_KINDS) {
        const applicable = KINDS[kind].sites(
          sites,
          base.target.body !== undefined,
          base.target.body?.encoding,
        )
        if (applicable.length)
          this.categories.push({
            base,
            kind,
            sites: applicable,
            ...(bodyText !== undefined ? { bodyText } : {}),
          })
      }
    }
  }

  /** The case at `index`; the same for the same bases, seed and index. */
  generate(index: number): Case {
    const swept = this.sweep[index]
    if (swept) return buildCase(swept.base, index, swept.mutation, swept.site)
    const sampled = index - this.sweep.length
    const category = this.categories[sampled % this.categories.length]!
    const occurrence = Math.floor(sampled / this.categories.length)
    const site = category.sites[occurrence % category.sites.length]!
    const round = Math.floor(occurrence / category.sites.length)
    // What the arbitrary depends on: the kind, the site (and its valid value), the body, the round.
    const where = site.on === 'body' ? `b${site.pointer}` : `p${site.spec.in}:${site.spec.name}`
    const key = [
      category.kind,
      where,
      JSON.stringify(site.value) ?? '',
      category.bodyText ?? '',
      category.kind === 'boundary' ? round : 0,
      this.maxBodyBytes,
    ].join('\0')
    let cache = arbitraries.get(category.base.target)
    if (!cache) arbitraries.set(category.base.target, (cache = new Map()))
    let arbitrary = cache.get(key)
    if (!arbitrary) {
      const body = category.base.target.body
      const context: KindContext = {
        maxBodyBytes: this.maxBodyBytes,
        ...(category.bodyText !== undefined ? { bodyText: category.bodyText } : {}),
        ...(body ? { encoding: body.encoding, xmlRoot: body.xmlRoot ?? 'root' } : {}),
      }
      arbitrary = KINDS[category.kind].arbitrary(site, context, round)
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!)
      cache.set(key, arbitrary)
    }
    const [mutation] = fc.sample(arbitrary, { seed: caseSeed(this.seed, index), numRuns: 1 })
    return buildCase(category.base, index, mutation!, site)
  }
}
