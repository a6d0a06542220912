/**
 * JSON Schema loading and validation for contract checks: files in JSON or YAML with `$ref`s
 * resolved (@apidevtools/json-schema-ref-parser, local files inside the plan's file roots only: never the
 * network, never a file outside the project, also through a symlink), ajv with
 * formats, and one compiled validator per schema — cached by document and JSON pointer for the
 * whole process, so a thousand checks against one OpenAPI document compile each schema once.
 */
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { $RefParser, type FileInfo } from '@apidevtools/json-schema-ref-parser'
import type { Ajv } from 'ajv'
import {
  createAjv,
  dialectOf,
  type Dialect,
  type ErrorObject,
  type ValidateFunction,
} from '../../../plans/ajv.js'
import { enumPaths, type EnumPaths } from './enums.js'
import { insideRoots, projectRoot, realLocation } from '../../../plans/files.js'
import { ContractSourceError } from './errors.js'
import { get as getPointer, join, uriFragment } from '../pointer.js'
import { ABSENT, PRESENT, clipValue } from '../values.js'

export { dialectOf, type Dialect }

/** A loaded schema document: a JSON Schema file or an OpenAPI document (converted for ajv). */
export interface SchemaDocument {
  /** URI ajv knows the document by. */
  readonly id: string
  /** Path as given (for messages). */
  readonly file: string
  readonly dialect: Dialect
  /** The document with every `$ref` internal (bundled) and, for OpenAPI 3.0, converted to JSON Schema. */
  readonly document: Record<string, unknown>
}

/** One validator, with the enum paths of its schema (for the baseline comparison). */
export interface CompiledSchema {
  readonly document: SchemaDocument
  /** JSON pointer of the schema inside its document (`''` for the root). */
  readonly pointer: string
  readonly validate: ValidateFunction
  readonly enums: EnumPaths
}

/** One reason a value does not match its schema. */
export interface SchemaViolation {
  /** Pointer into the validated value (for `required`, the missing property's pointer). */
  pointer: string
  /** ajv's message, e.g. `must be integer`. */
  message: string
  keyword: string
  /** What the schema asks for at that place (the keyword's parameter). */
  expected: unknown
  /** The value found there (clipped); undefined when missing. */
  actual: unknown
}

/**
 * The folders a file named without a plan may read from: the project (git repository, else folder) holding
 * it. Plans carry their own (`Plan.fileRoots`: the project and the config's `allowFiles`).
 */
export async function defaultRoots(file: string): Promise<string[]> {
  return [await projectRoot(path.dirname(path.resolve(file)))]
}

/**
 * The path json-schema-ref-parser means by a resolved `$ref` URL, converted as its own file resolver does
 * (decodeURI, then the characters decodeURI leaves encoded).
 */
function fileSystemPath(url: string): string {
  if (/^file:\/\//i.test(url)) return fileURLToPath(url)
  return decodeURI(url)
    .replace(/%23/g, '#')
    .replace(/%24/g, '$')
    .replace(/%26/g, '&')
    .replace(/%2C/g, ',')
    .replace(/%40/g, '@')
}

/** Parses a file and makes every `$ref` internal; local files inside `roots` only (real paths compared). */
export async function bundleFile(file: string, roots?: readonly string[]): Promise<Record<string, unknown>> {
  const allowed = roots ?? (await defaultRoots(file))
  // The file resolver reads every document, the first included: each is checked where it really leads.
  let refused: string | undefined
  const read = async (info: FileInfo): Promise<Buffer> => {
    const wanted = fileSystemPath(info.url)
    if (!insideRoots(await realLocation(wanted), allowed)) {
      const shown = path.relative(path.dirname(path.resolve(file)), wanted) || wanted
      refused ??= `"${shown}" leads outside the project; list its folder in allowFiles of vigil.config.yaml to read it`
      throw new Error(refused)
    }
    return readFile(wanted)
  }
  try {
    const parser = new $RefParser()
    const bundled = await parser.bundle(file, { resolve: { http: false, external: true, file: { read } } })
    if (!bundled || typeof bundled !== 'object' || Array.isArray(bundled)) {
      throw new Error('the document is not an object')
    }
    return bundled as Record<string, unknown>
  } catch (error) {
    // The parser wraps a resolver's error in its own message; ours says what happened.
    const reason = refused ?? (error as Error).message?.split('\n')[0] ?? String(error)
    throw new ContractSourceError(`${file}: cannot load: ${reason}`, { cause: error })
  }
}

export class SchemaRegistry {
  private readonly ajv = new Map<Dialect, Ajv>()
  private readonly files = new Map<string, Promise<SchemaDocument>>()
  private readonly registered = new Set<string>()
  private readonly compiled = new Map<string, CompiledSchema>()

  /**
   * Loads a JSON Schema file (JSON or YAML) whose documents must stay inside `roots` (default: the file's
   * project). Cached by absolute path and modification time.
   */
  async loadFile(file: string, label = file, roots?: readonly string[]): Promise<SchemaDocument> {
    const absolute = path.resolve(file)
    const mtime = await stat(absolute).then(
      (s) => s.mtimeMs,
      (error: NodeJS.ErrnoException) => {
        throw new ContractSourceError(`${label}: cannot read schema: ${error.code ?? error.message}`, {
          cause: error,
        })
      },
    )
    // The same file read under other roots (another config) is checked again.
    const key = `${absolute}@${mtime}@${roots?.join(path.delimiter) ?? ''}`
    let loading = this.files.get(key)
    if (!loading) {
      loading = bundleFile(absolute, roots).then((document) => {
        // draft-04/06 are close enough to draft-07 for response validation; ajv 8 has no draft-04 meta-schema.
        if (typeof document.$schema === 'string' && /draft-0[46]/.test(document.$schema))
          delete document.$schema
        return {
          id: `${pathToFileURL(absolute).href}?mtime=${Math.round(mtime)}`,
          file: label,
          dialect: dialectOf(document),
          document,
        }
      })
      this.files.set(key, loading)
      loading.catch(() => this.files.delete(key))
    }
    return loading
  }

  /** Wraps an in-memory document (an inline schema, a converted OpenAPI document) under a stable id. */
  fromObject(
    id: string,
    file: string,
    document: Record<string, unknown>,
    dialect: Dialect = dialectOf(document),
  ): SchemaDocument {
    return { id, file, dialect, document }
  }

  /** The validator of the schema at `pointer` in `doc`; compiled once per (document, pointer). */
  compile(doc: SchemaDocument, pointer = ''): CompiledSchema {
    const key = `${doc.id}#${pointer}`
    const cached = this.compiled.get(key)
    if (cached) return cached
    const schema = getPointer(doc.document, pointer)
    if (schema === undefined || (typeof schema !== 'object' && typeof schema !== 'boolean')) {
      throw new ContractSourceError(`${doc.file}: no schema at #${pointer}`)
    }
    const ajv = this.instance(doc.dialect)
    if (!this.registered.has(doc.id)) {
      // A schema document's own `$id` would shadow ours; the copy ajv keeps has ours.
      const { $id: _ignored, ...rest } = doc.document
      ajv.addSchema(rest, doc.id)
      this.registered.add(doc.id)
    }
    let validate: ValidateFunction | undefined
    try {
      validate = ajv.getSchema(`${doc.id}#${uriFragment(pointer)}`)
    } catch (error) {
      throw new ContractSourceError(`${doc.file}#${pointer}: invalid schema: ${(error as Error).message}`, {
        cause: error,
      })
    }
    if (!validate) throw new ContractSourceError(`${doc.file}: no schema at #${pointer}`)
    const compiled = { document: doc, pointer, validate, enums: enumPaths(schema, doc.document) }
    this.compiled.set(key, compiled)
    return compiled
  }

  private instance(dialect: Dialect): Ajv {
    let ajv = this.ajv.get(dialect)
    if (!ajv) this.ajv.set(dialect, (ajv = createAjv({ dialect, documents: true })))
    return ajv
  }
}

/** The registry shared by every check of the process. */
export const schemaRegistry = new SchemaRegistry()

/** Validates a value; the violations are sorted by pointer, at most `limit` of them. */
export function validateValue(compiled: CompiledSchema, value: unknown, limit = 20): SchemaViolation[] {
  if (compiled.validate(value)) return []
  const seen = new Set<string>()
  const out: SchemaViolation[] = []
  for (const error of compiled.validate.errors ?? []) {
    const violation = toViolation(error, value)
    const key = `${violation.pointer} ${violation.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(violation)
  }
  out.sort((a, b) => (a.pointer < b.pointer ? -1 : a.pointer > b.pointer ? 1 : 0))
  return out.slice(0, limit)
}

function toViolation(error: ErrorObject, value: unknown): SchemaViolation {
  const params = error.params as Record<string, unknown>
  let pointer = error.instancePath
  let expected: unknown = params
  if (error.keyword === 'required') {
    pointer = join(pointer, String(params.missingProperty))
    expected = PRESENT
  } else if (error.keyword === 'additionalProperties') {
    pointer = join(pointer, String(params.additionalProperty))
    expected = ABSENT
  } else if (error.keyword === 'type') expected = { type: params.type }
  else if (error.keyword === 'enum') expected = { enum: params.allowedValues }
  else if (error.keyword === 'format') expected = { format: params.format }
  else {
    // `{ minimum: 1 }`, `{ maxLength: 3 }`, `{ pattern: "^a" }`: the rule the message states, as written.
    const rule = ['limit', 'pattern', 'allowedValue', 'multipleOf'].find((k) => Object.hasOwn(params, k))
    if (rule !== undefined) expected = { [error.keyword]: params[rule] }
  }
  const actual = clipValue(getPointer(value, pointer), 200)
  const message =
    error.keyword === 'required'
      ? 'is required'
      : error.keyword === 'additionalProperties'
        ? 'is not allowed'
        : (error.message ?? error.keyword)
  return { pointer, message, keyword: error.keyword, expected, actual }
}
