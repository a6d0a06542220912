/**
 * The one Ajv factory of vigil, and its cache of validators. Every schema vigil validates with goes through
 * here: its own (the plan frontmatter, the config, each check kind's block, each sandbox provider's and
 * executor's options, the selection record, the verdict, the labelled changes, an LLM's tool reply) and its
 * users' (a contract's JSON Schema or OpenAPI document, the adversarial kind's bodies). One configuration:
 * - allErrors: a plan author wants every problem at once;
 * - strict off: kinds annotate their schemas with keywords Ajv does not know (tests compile vigil's
 *   published schemas in strict mode, where a mistake in a schema shows);
 * - formats from ajv-formats (and, in vigil's own schemas, `duration` is vigil's: `500ms`, `30s`);
 * - for vigil's own schemas, `verbose` (messages quote the offending value and read the parent schema)
 *   and the annotations the messages use (schema-errors.ts) and `x-file` (files.ts);
 * - for users' documents, OpenAPI's formats (int32, byte…), no meta-schema check (OpenAPI 3.0 schemas are
 *   not quite JSON Schema) and no annotations of vigil's.
 */
import { Ajv } from 'ajv'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { isDurationString } from './duration.js'
import type { JsonSchema } from './types.js'

// ajv-formats is CommonJS with a default export; under nodenext the default import is the module itself.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv

/** The JSON Schema dialects vigil reads: draft-07 (and 04/06, close enough) and 2020-12 (and 2019-09). */
export type Dialect = 'draft-07' | '2020-12'

export interface AjvOptions {
  /** @default 'draft-07' */
  dialect?: Dialect
  /** Schemas written by users rather than vigil: see the module comment. @default false */
  documents?: boolean
  /** Ajv's strict mode, for tests of vigil's own schemas. @default false */
  strict?: boolean
}

/** OpenAPI's formats beyond JSON Schema's. */
const OPENAPI_FORMATS: Record<string, { type: 'number' | 'string'; validate: (value: never) => boolean }> = {
  int32: { type: 'number', validate: (v: number) => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 },
  int64: { type: 'number', validate: (v: number) => Number.isInteger(v) },
  float: { type: 'number', validate: () => true },
  double: { type: 'number', validate: () => true },
  byte: { type: 'string', validate: (v: string) => /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0 },
  binary: { type: 'string', validate: () => true },
  password: { type: 'string', validate: () => true },
}

/** The dialect of a schema, from its `$schema`. */
export function dialectOf(schema: Readonly<Record<string, unknown>>): Dialect {
  const uri = typeof schema.$schema === 'string' ? schema.$schema : ''
  return /2019-09|2020-12/.test(uri) ? '2020-12' : 'draft-07'
}

/** A new Ajv instance configured as vigil validates; most callers want {@link validatorFor}. */
export function createAjv(options: AjvOptions = {}): Ajv {
  const documents = options.documents ?? false
  const settings = {
    allErrors: true,
    strict: options.strict ?? false,
    // A `required` name that only a sibling branch defines is how `anyOf` alternatives are written.
    strictRequired: false,
    allowUnionTypes: true,
    logger: false as const,
    // No optimising pass: compiling the kinds' schemas is most of what `vigil plans lint` costs, and ajv's
    // optimiser over the generated code takes about 40% of it (the shop's lint: 620 -> 510 ms CPU), while
    // loading 1,000 plans validates no slower (test/bench/plans.bench.ts).
    code: { optimize: false },
    ...(documents ? { validateSchema: false } : { verbose: true }),
  }
  const ajv = options.dialect === '2020-12' ? (new Ajv2020(settings) as unknown as Ajv) : new Ajv(settings)
  addFormats(ajv)
  if (documents) {
    // A user's `format: duration` is ISO 8601's (P3D), as ajv-formats reads it; vigil's own is `30s`.
    for (const [name, format] of Object.entries(OPENAPI_FORMATS)) ajv.addFormat(name, format as never)
    return ajv
  }
  ajv.addFormat('duration', { type: 'string', validate: isDurationString })
  // Annotations our schemas use to phrase messages (see schema-errors.ts).
  for (const keyword of ['x-hint', 'x-code', 'x-pattern', 'x-pattern-code'])
    ajv.addKeyword({ keyword, schemaType: 'string' })
  // `x-file: <role>` marks a string that names a file the plan reads (plans/files.ts checks where it leads).
  ajv.addKeyword({
    keyword: 'x-file',
    schemaType: 'string',
    errors: false,
    validate: (role: string, data: unknown, _parent: unknown, cxt?: { instancePath: string }) => {
      if (collecting && typeof data === 'string')
        collecting.push({ pointer: cxt?.instancePath ?? '', value: data, role })
      return true
    },
  })
  return ajv
}

/** A string a schema marks with `x-file`: a file (or, for the role `folder`, a folder) the plan names. */
export interface FileReference {
  /** JSON pointer of the string in the validated value. */
  pointer: string
  value: string
  role: string
}

/** Where `x-file` strings go during one (synchronous) validation. */
let collecting: FileReference[] | undefined

/** Validates `data` and returns the `x-file` strings it holds, each pointer once. */
export function validateCollectingFiles(
  validate: ValidateFunction,
  data: unknown,
): { valid: boolean; files: FileReference[] } {
  const files: FileReference[] = []
  collecting = files
  try {
    const valid = validate(data) as boolean
    // A string in a oneOf branch can be seen once per branch tried.
    const unique = new Map(files.map((f) => [f.pointer, f]))
    return { valid, files: [...unique.values()] }
  } finally {
    collecting = undefined
  }
}

const shared = new Map<Dialect, Ajv>()
const compiled = new WeakMap<object, ValidateFunction>()

/**
 * The validator of one of vigil's schemas, compiled once per schema object and reused, on the shared
 * instance of its dialect. A schema whose `$id` is already taken by another object gets an Ajv of its own.
 */
export function validatorFor<T = unknown>(
  schema: JsonSchema | Readonly<Record<string, unknown>>,
): ValidateFunction<T> {
  let validate = compiled.get(schema)
  if (validate) return validate as ValidateFunction<T>
  const dialect = dialectOf(schema)
  let ajv = shared.get(dialect)
  if (!ajv) shared.set(dialect, (ajv = createAjv({ dialect })))
  const id = typeof schema.$id === 'string' ? schema.$id : undefined
  if (id !== undefined && ajv.getSchema(id)) ajv = createAjv({ dialect })
  validate = ajv.compile(schema)
  compiled.set(schema, validate)
  return validate as ValidateFunction<T>
}

export type { ErrorObject, ValidateFunction }
