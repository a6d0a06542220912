/**
 * OpenAPI 3.x documents for checks: load (YAML or JSON, `$ref`s across files bundled), list the
 * operations with their parameters, request bodies and documented responses, filter them, and
 * find the JSON Schema of a response. Reusable by any check kind that works from an OpenAPI document.
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { closest } from 'fastest-levenshtein'
import picomatch from 'picomatch'
import { convertOpenApi30 } from './convert.js'
import { ContractSourceError, ContractUsageError } from './errors.js'
import { escapeToken, get as getPointer, join } from '../pointer.js'
import { bundleFile, type SchemaDocument } from './schema.js'

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

export interface OpenApiParameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required: boolean
  schema?: Record<string, unknown>
  /** The documented example (`example`, first of `examples`, or the schema's `example`/`default`), if any. */
  example?: { value: unknown }
}

export interface OpenApiMedia {
  mediaType: string
  /** Pointer of the media type's schema in the document, when it has one. */
  schemaPointer?: string
  example?: { value: unknown }
}

export interface OpenApiResponse {
  /** `200`, `2XX` or `default`. */
  status: string
  /** Pointer of the (resolved) Response Object. */
  pointer: string
  content: OpenApiMedia[]
  /** Headers the response documents, and whether each is required. */
  headers: Array<{ name: string; required: boolean }>
}

export interface OpenApiOperation {
  /** `operationId`, else `METHOD /path`. */
  id: string
  method: string
  /** The path template, e.g. `/orders/{orderId}`. */
  path: string
  tags: string[]
  summary?: string
  /** Pointer of the Operation Object. */
  pointer: string
  parameters: OpenApiParameter[]
  requestBody?: { required: boolean; content: OpenApiMedia[] }
  responses: OpenApiResponse[]
}

export interface OpenApiDocument {
  /** The path as given, for messages. */
  file: string
  /** `3.0.3`, `3.1.0`, … */
  version: string
  /** The bundled document as written (every `$ref` internal), for sampling examples. */
  raw: Record<string, unknown>
  /** The same document as JSON Schema for ajv (3.0 `nullable` etc. converted). */
  schemas: SchemaDocument
  /** Sorted by path, then method. */
  operations: OpenApiOperation[]
}

const cache = new Map<string, Promise<OpenApiDocument>>()

/**
 * Loads an OpenAPI 3.x document whose documents must stay inside `roots` (default: the file's project);
 * cached by absolute path and modification time.
 */
export async function loadOpenApi(
  file: string,
  label = file,
  roots?: readonly string[],
): Promise<OpenApiDocument> {
  const absolute = path.resolve(file)
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    throw new ContractSourceError(`${label}: cannot read OpenAPI document: ${error.code ?? error.message}`, {
      cause: error,
    })
  })
  const key = `${absolute}@${info.mtimeMs}@${roots?.join(path.delimiter) ?? ''}`
  let loading = cache.get(key)
  if (!loading) {
    loading = bundleFile(absolute, roots).then((raw) =>
      build(raw, label, `${pathToFileURL(absolute).href}?mtime=${Math.round(info.mtimeMs)}`),
    )
    cache.set(key, loading)
    loading.catch(() => cache.delete(key))
  }
  return loading
}

function build(raw: Record<string, unknown>, file: string, id: string): OpenApiDocument {
  const version = typeof raw.openapi === 'string' ? raw.openapi : ''
  if (!/^3\.[01]\./.test(version)) {
    throw new ContractSourceError(
      `${file}: not an OpenAPI 3.0/3.1 document (openapi: ${JSON.stringify(raw.openapi ?? null)})`,
    )
  }
  const is31 = version.startsWith('3.1')
  const converted = (is31 ? raw : convertOpenApi30(raw)) as Record<string, unknown>
  const schemas: SchemaDocument = { id, file, dialect: is31 ? '2020-12' : 'draft-07', document: converted }
  return { file, version, raw, schemas, operations: listOperations(raw) }
}

/** Follows `$ref`s (internal after bundling) to the object and its pointer. */
function deref(
  raw: unknown,
  value: unknown,
  pointer: string,
): { value: Record<string, unknown>; pointer: string } | undefined {
  let current = value
  let at = pointer
  for (let hops = 0; hops < 20; hops++) {
    if (!current || typeof current !== 'object') return undefined
    const ref = (current as { $ref?: unknown }).$ref
    if (typeof ref !== 'string') return { value: current as Record<string, unknown>, pointer: at }
    if (!ref.startsWith('#')) return undefined
    at = decodeURIComponent(ref.slice(1))
    current = getPointer(raw, at)
  }
  return undefined
}

function exampleOf(object: Record<string, unknown>, raw: unknown): { value: unknown } | undefined {
  if (object.example !== undefined) return { value: object.example }
  if (object.examples && typeof object.examples === 'object') {
    const examples = object.examples as Record<string, unknown>
    const first = Object.keys(examples).sort()[0]
    if (Array.isArray(examples)) return examples.length ? { value: examples[0] } : undefined
    const resolved = first === undefined ? undefined : deref(raw, examples[first], '')
    if (resolved && resolved.value.value !== undefined) return { value: resolved.value.value }
  }
  return undefined
}

function media(raw: unknown, content: unknown, pointer: string): OpenApiMedia[] {
  if (!content || typeof content !== 'object') return []
  return Object.keys(content)
    .sort()
    .map((mediaType) => {
      const at = join(pointer, mediaType)
      const object = (content as Record<string, Record<string, unknown>>)[mediaType] ?? {}
      const out: OpenApiMedia = { mediaType }
      if (object.schema !== undefined) out.schemaPointer = `${at}/schema`
      const example = exampleOf(object, raw)
      if (example) out.example = example
      return out
    })
}

function parameters(raw: unknown, list: unknown, pointer: string): OpenApiParameter[] {
  if (!Array.isArray(list)) return []
  const out: OpenApiParameter[] = []
  list.forEach((entry, i) => {
    const resolved = deref(raw, entry, `${pointer}/${i}`)
    if (!resolved || typeof resolved.value.name !== 'string') return
    const p = resolved.value
    const schema = deref(raw, p.schema, `${resolved.pointer}/schema`)?.value
    const parameter: OpenApiParameter = {
      name: p.name as string,
      in: p.in as OpenApiParameter['in'],
      required: p.in === 'path' || p.required === true,
    }
    if (schema) parameter.schema = schema
    const example =
      exampleOf(p, raw) ??
      (schema?.example !== undefined
        ? { value: schema.example }
        : Array.isArray(schema?.examples) && schema.examples.length
          ? { value: schema.examples[0] }
          : schema?.default !== undefined
            ? { value: schema.default }
            : undefined)
    if (example) parameter.example = example
    out.push(parameter)
  })
  return out
}

function listOperations(raw: Record<string, unknown>): OpenApiOperation[] {
  const out: OpenApiOperation[] = []
  const paths = (raw.paths ?? {}) as Record<string, Record<string, unknown>>
  for (const template of Object.keys(paths).sort()) {
    const itemPointer = `/paths/${escapeToken(template)}`
    const item = deref(raw, paths[template], itemPointer)
    if (!item) continue
    const shared = parameters(raw, item.value.parameters, `${item.pointer}/parameters`)
    for (const method of METHODS) {
      const op = item.value[method] as Record<string, unknown> | undefined
      if (!op || typeof op !== 'object') continue
      const pointer = `${item.pointer}/${method}`
      const own = parameters(raw, op.parameters, `${pointer}/parameters`)
      const merged = [...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)), ...own]
      const operation: OpenApiOperation = {
        id: typeof op.operationId === 'string' ? op.operationId : `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        path: template,
        tags: Array.isArray(op.tags) ? op.tags.map(String) : [],
        pointer,
        parameters: merged,
        responses: responses(raw, op.responses, `${pointer}/responses`),
      }
      if (typeof op.summary === 'string') operation.summary = op.summary
      const body = deref(raw, op.requestBody, `${pointer}/requestBody`)
      if (body)
        operation.requestBody = {
          required: body.value.required === true,
          content: media(raw, body.value.content, `${body.pointer}/content`),
        }
      out.push(operation)
    }
  }
  return out
}

function responses(raw: unknown, value: unknown, pointer: string): OpenApiResponse[] {
  if (!value || typeof value !== 'object') return []
  return Object.keys(value)
    .sort()
    .flatMap((status) => {
      const resolved = deref(raw, (value as Record<string, unknown>)[status], join(pointer, status))
      if (!resolved) return []
      const headers = Object.entries((resolved.value.headers ?? {}) as Record<string, unknown>)
        .map(([name, header]) => ({
          name: name.toLowerCase(),
          required: deref(raw, header, '')?.value.required === true,
        }))
        .sort((a, b) => (a.name < b.name ? -1 : 1))
      return [
        {
          status: status.toUpperCase(),
          pointer: resolved.pointer,
          content: media(raw, resolved.value.content, `${resolved.pointer}/content`),
          headers,
        },
      ]
    })
}

/** Filters of an `openapi:` block. All given filters must hold; none means every operation. */
export interface OperationFilter {
  /** operationIds (or `METHOD /path`); each must exist. */
  operations?: readonly string[]
  /** Operations having at least one of these tags. */
  tags?: readonly string[]
  /** Path templates or globs (`/orders/**`). */
  paths?: readonly string[]
}

/** The operations a block selects, in document order (path, then method). Throws for an unknown operation id. */
export function selectOperations(doc: OpenApiDocument, filter: OperationFilter = {}): OpenApiOperation[] {
  const ids = doc.operations.map((o) => o.id)
  for (const wanted of filter.operations ?? []) {
    if (!ids.includes(wanted)) {
      const hint = ids.length ? closest(wanted, ids) : undefined
      throw new ContractUsageError(
        `${doc.file}: no operation "${wanted}"${hint ? `; did you mean "${hint}"?` : ''}`,
      )
    }
  }
  const pathMatchers = (filter.paths ?? []).map((glob) => {
    const match = picomatch(glob, { nobrace: true })
    return (template: string) => template === glob || match(template)
  })
  return doc.operations.filter(
    (op) =>
      (!filter.operations?.length || filter.operations.includes(op.id)) &&
      (!filter.tags?.length || op.tags.some((t) => filter.tags!.includes(t))) &&
      (!pathMatchers.length || pathMatchers.some((m) => m(op.path))),
  )
}

/** The documented response for a status: exact code, then `2XX`-style range, then `default`. */
export function documentedResponse(op: OpenApiOperation, status: number): OpenApiResponse | undefined {
  const exact = op.responses.find((r) => r.status === String(status))
  return (
    exact ??
    op.responses.find((r) => r.status === `${Math.floor(status / 100)}XX`) ??
    op.responses.find((r) => r.status === 'DEFAULT')
  )
}
