/**
 * What an adversarial block attacks: OpenAPI operations (with the schemas of their bodies, path and query
 * parameters) and requests listed in the plan. Each target carries a valid request — the base every
 * case mutates — with `{{templates}}` still in it: they are rendered per sandbox, after setup.
 */
import path from 'node:path'
import {
  loadOpenApi,
  selectOperations,
  type OpenApiDocument,
  type OpenApiMedia,
  type OpenApiOperation,
} from '../../api/documents/openapi.js'
import { get as getPointer } from '../../api/pointer.js'
import { parseRequestLine } from '../../api/vocabulary.js'
import { jsonMedia, sampleMedia, sampleRequest } from '../../api/documents/sample.js'
import { contentTypeOf, encodingOf, type BodyEncoding } from './encodings.js'
import { schemaRegistry, type Dialect } from '../../api/documents/schema.js'
import { AdversarialUsageError } from './errors.js'
import type { AdversarialParams, AdversarialRequest } from './params.js'
import { inlineRefs, validatorFor, type Schema } from './schemas.js'

export interface ParamSpec {
  name: string
  in: 'path' | 'query'
  required: boolean
  /** Self-contained schema, when documented. */
  schema?: Schema
  validate?: (value: unknown) => boolean
  /** The value of the valid request (may hold templates); undefined leaves an optional parameter out. */
  base?: unknown
}

export interface BodySpec {
  /** Media types the operation accepts. */
  mediaTypes: string[]
  /** How the cases' bodies are written: JSON when the operation takes it, else multipart or XML. */
  encoding: BodyEncoding
  /** The content-type the cases are sent with (a multipart one names its boundary). */
  contentType: string
  /** The root element of an XML body: the schema's `xml.name`, its component's name, else `root`. */
  xmlRoot?: string
  schema?: Schema
  validate?: (value: unknown) => boolean
  /** The valid body (may hold templates). */
  example: unknown
  /** An empty body is invalid. */
  required: boolean
}

export interface Target {
  /** operationId, or the request's name. */
  id: string
  method: string
  /** `/orders/{orderId}` (OpenAPI) or a literal path (may hold templates). */
  path: string
  service?: string
  params: ParamSpec[]
  headers: Record<string, string>
  body?: BodySpec
  /** Needs credentials: gets the owner's, and the authorization probes. */
  auth: boolean
  /** The roles that may call it (any one suffices); undefined: any principal may. */
  roles?: string[]
}

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH'])

function securityOf(doc: OpenApiDocument, op: OpenApiOperation): unknown {
  const own = (getPointer(doc.raw, op.pointer) as { security?: unknown } | undefined)?.security
  return own ?? doc.raw.security
}

/** The scopes of an operation's security requirements, pooled: the roles that may call it. */
function scopesOf(doc: OpenApiDocument, op: OpenApiOperation): string[] | undefined {
  const security = securityOf(doc, op)
  if (!Array.isArray(security)) return undefined
  const scopes = security.flatMap((s: unknown) =>
    s && typeof s === 'object'
      ? Object.values(s).flatMap((list: unknown) =>
          Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [],
        )
      : [],
  )
  return scopes.length ? [...new Set(scopes)] : undefined
}

const hasPrincipals = (params: AdversarialParams) => Object.keys(params.principals ?? {}).length > 0

function needsAuth(doc: OpenApiDocument, op: OpenApiOperation): boolean {
  const security = securityOf(doc, op)
  // `security: []` (or none at all) means anonymous; `[{}]` lists an anonymous alternative.
  return (
    Array.isArray(security) && security.length > 0 && !security.some((s) => s && Object.keys(s).length === 0)
  )
}

function operationTarget(doc: OpenApiDocument, op: OpenApiOperation, params: AdversarialParams): Target {
  const dialect: Dialect = doc.schemas.dialect
  const root = doc.schemas.document
  const given = params.params ?? {}
  const specs: ParamSpec[] = []
  for (const p of op.parameters) {
    if (p.in !== 'path' && p.in !== 'query') continue
    const spec: ParamSpec = { name: p.name, in: p.in, required: p.required }
    // The converted document holds the same parameter schemas in ajv's dialect.
    const pointer = findParamPointer(doc, op, p.name, p.in)
    const raw = pointer ? getPointer(root, pointer) : undefined
    if (raw && typeof raw === 'object') {
      spec.schema = inlineRefs(raw, root) as Schema
      spec.validate = validatorFor(spec.schema, dialect, `${doc.file} ${op.id} ${p.in} ${p.name}`)
    }
    if (Object.hasOwn(given, p.name)) spec.base = given[p.name]
    else if (p.example) spec.base = p.example.value
    specs.push(spec)
  }
  const target: Target = {
    id: op.id,
    method: op.method,
    path: op.path,
    params: specs,
    headers: { ...params.headers },
    auth: hasPrincipals(params) && needsAuth(doc, op),
  }
  const roles = params.roles?.[op.id] ?? scopesOf(doc, op)
  if (roles?.length) target.roles = roles
  if (params.service) target.service = params.service
  if (op.requestBody) {
    const content = op.requestBody.content
    const written = (e: BodyEncoding) => content.find((m) => encodingOf(m.mediaType) === e)
    const media = jsonMedia(content) ?? written('multipart') ?? written('xml')
    const encoding = (media && encodingOf(media.mediaType)) ?? 'json'
    const body: BodySpec = {
      mediaTypes: content.map((m) => m.mediaType),
      encoding,
      contentType: contentTypeOf(encoding, media?.mediaType ?? 'application/json'),
      example: encoding === 'json' ? sampleRequest(doc, op, given).json : sampleMedia(doc, media!),
      required: op.requestBody.required,
    }
    if (encoding === 'xml') body.xmlRoot = xmlRoot(doc, media!)
    if (media?.schemaPointer) {
      body.schema = inlineRefs(getPointer(root, media.schemaPointer), root) as Schema
      body.validate = validatorFor(body.schema, dialect, `${doc.file} ${op.id} body`)
    }
    target.body = body
  }
  return target
}

/** The root element of an XML body: `xml.name` of its schema (or the component it refers to), its component's name, else `root`. */
function xmlRoot(doc: OpenApiDocument, media: OpenApiMedia): string {
  let schema = (media.schemaPointer ? getPointer(doc.raw, media.schemaPointer) : undefined) as
    { $ref?: unknown; xml?: { name?: unknown } } | undefined
  let name: string | undefined
  for (let hops = 0; typeof schema?.$ref === 'string' && hops < 10; hops++) {
    const ref = schema.$ref as string
    name = decodeURIComponent(ref.slice(ref.lastIndexOf('/') + 1))
    schema = getPointer(doc.raw, decodeURIComponent(ref.slice(1))) as typeof schema
  }
  const given = schema?.xml?.name
  const root = typeof given === 'string' ? given : name
  return root && /^[A-Za-z_][\w.-]*$/.test(root) ? root : 'root'
}

/** Pointer of a parameter's schema in the (converted) document: operation level first, then path item. */
function findParamPointer(
  doc: OpenApiDocument,
  op: OpenApiOperation,
  name: string,
  where: string,
): string | undefined {
  const item = op.pointer.slice(0, op.pointer.lastIndexOf('/'))
  for (const base of [`${op.pointer}/parameters`, `${item}/parameters`]) {
    const list = getPointer(doc.raw, base)
    if (!Array.isArray(list)) continue
    for (const [i, entry] of list.entries()) {
      let at = `${base}/${i}`
      let value = entry as Record<string, unknown>
      for (let hops = 0; typeof value?.$ref === 'string' && hops < 10; hops++) {
        at = decodeURIComponent((value.$ref as string).slice(1))
        value = getPointer(doc.raw, at) as Record<string, unknown>
      }
      if (value?.name === name && value.in === where && value.schema !== undefined) return `${at}/schema`
    }
  }
  return undefined
}

async function requestTarget(
  entry: AdversarialRequest,
  params: AdversarialParams,
  planDir: string,
  index: number,
  fileRoots: readonly string[] | undefined,
): Promise<Target> {
  const parsed = parseRequestLine({ method: entry.method ?? 'GET', path: entry.path })
  if (!entry.path.startsWith('/') || entry.path.startsWith('//')) {
    throw new AdversarialUsageError(
      `requests[${index}]: path "${entry.path}" must be relative to the service (start with one "/")`,
    )
  }
  const [pathOnly] = parsed.path.split('?')
  const target: Target = {
    id: entry.name ?? `${parsed.method} ${pathOnly}`,
    method: parsed.method,
    path: pathOnly!,
    params: Object.entries(entry.query ?? {}).map(([name, value]) => ({
      name,
      in: 'query',
      required: false,
      base: value,
    })),
    headers: { ...params.headers, ...entry.headers },
    auth: hasPrincipals(params) && entry.auth !== false,
  }
  const roles = params.roles?.[target.id]
  if (roles?.length) target.roles = roles
  const service = entry.service ?? params.service
  if (service) target.service = service
  if (entry.json !== undefined || entry.schema !== undefined || METHODS_WITH_BODY.has(parsed.method)) {
    const body: BodySpec = {
      mediaTypes: ['application/json'],
      encoding: 'json',
      contentType: 'application/json',
      example: entry.json ?? {},
      required: true,
    }
    if (entry.schema !== undefined) {
      const label = `requests[${index}].schema`
      if (typeof entry.schema === 'object') body.schema = entry.schema
      else {
        const [file, fragment = ''] = entry.schema.split('#')
        const doc = await schemaRegistry.loadFile(path.resolve(planDir, file!), file, fileRoots)
        body.schema = inlineRefs(
          getPointer(doc.document, decodeURIComponent(fragment)),
          doc.document,
        ) as Schema
      }
      body.validate = validatorFor(body.schema, 'draft-07', label)
    }
    target.body = body
  }
  return target
}

/**
 * Every target of a block, in the document's order (path, then method), then the listed requests. Files
 * are read inside `fileRoots` only (the plan's; default: the project of `planDir`).
 */
export async function resolveTargets(
  params: AdversarialParams,
  planDir: string,
  fileRoots?: readonly string[],
): Promise<Target[]> {
  const out: Target[] = []
  if (params.openapi) {
    const doc = await loadOpenApi(path.resolve(planDir, params.openapi), params.openapi, fileRoots)
    const ops = selectOperations(doc, params.operations ? { operations: params.operations } : {})
    for (const op of ops) out.push(operationTarget(doc, op, params))
  }
  for (const [i, entry] of (params.requests ?? []).entries())
    out.push(await requestTarget(entry, params, planDir, i, fileRoots))
  const ids = new Set<string>()
  for (const target of out) {
    if (ids.has(target.id))
      throw new AdversarialUsageError(
        `two targets are named "${target.id}"; give the requests distinct names`,
      )
    ids.add(target.id)
  }
  return out
}
