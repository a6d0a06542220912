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
 *   and the annotations the messages use (schema-errors.ts), `x-file` (files.ts) and `x-operation`; their
 *   validators are generated at build time into the built package (see validatorFor), so the CLI compiles none;
 * - for users' documents, OpenAPI's formats (int32, byte…), no meta-schema check (OpenAPI 3.0 schemas are
 *   not quite JSON Schema) and no annotations of vigil's.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Ajv, CodeKeywordDefinition, ErrorObject, KeywordCxt, ValidateFunction } from 'ajv'
import type * as AjvModule from 'ajv'
import type * as Ajv2020Module from 'ajv/dist/2020.js'
import type * as Codegen from 'ajv/dist/compile/codegen/index.js'
import { isDurationString } from './duration.js'
import type { JsonSchema } from './types.js'

// Ajv itself (its compiler is most of what it weighs) loads only when a schema must be compiled: the built
// CLI validates vigil's own schemas with code generated at build time (see validatorFor).
const load = createRequire(import.meta.url)
const ajvModule = () => load('ajv') as typeof AjvModule
const codegen = () => load('ajv/dist/compile/codegen') as typeof Codegen

/** The JSON Schema dialects vigil reads: draft-07 (and 04/06, close enough) and 2020-12 (and 2019-09). */
export type Dialect = 'draft-07' | '2020-12'

export interface AjvOptions {
  /** @default 'draft-07' */
  dialect?: Dialect
  /** Schemas written by users rather than vigil: see the module comment. @default false */
  documents?: boolean
  /** Ajv's strict mode, for tests of vigil's own schemas. @default false */
  strict?: boolean
  /** Keep the generated code, for {@link standaloneValidator}. @default false */
  source?: boolean
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
  const source = options.source ?? false
  const settings = {
    allErrors: true,
    strict: options.strict ?? false,
    // A `required` name that only a sibling branch defines is how `anyOf` alternatives are written.
    strictRequired: false,
    allowUnionTypes: true,
    logger: false as const,
    // No optimising pass at run time: compiling the kinds' schemas was most of what `vigil plans lint`
    // cost, and ajv's optimiser over the generated code takes about 40% of it (the shop's lint: 620 -> 510
    // ms CPU), while loading 1,000 plans validates no slower (test/bench/plans.bench.ts). Code generated at
    // build time is optimised, and its formats come from the module validatorFor fills.
    code: source
      ? { source: true, formats: codegen()._`require(${`./${FORMATS_FILE}`})` }
      : { optimize: false },
    ...(documents ? { validateSchema: false } : { verbose: true, passContext: true }),
  }
  const { Ajv } = ajvModule()
  const ajv =
    options.dialect === '2020-12'
      ? (new (load('ajv/dist/2020') as typeof Ajv2020Module).Ajv2020(settings) as unknown as Ajv)
      : new Ajv(settings)
  ;(load('ajv-formats') as (ajv: Ajv) => Ajv)(ajv)
  if (documents) {
    // A user's `format: duration` is ISO 8601's (P3D), as ajv-formats reads it; vigil's own is `30s`.
    for (const [name, format] of Object.entries(OPENAPI_FORMATS)) ajv.addFormat(name, format as never)
    return ajv
  }
  ajv.addFormat('duration', DURATION)
  // Annotations our schemas use to phrase messages (see schema-errors.ts).
  for (const keyword of ['x-hint', 'x-code', 'x-pattern', 'x-pattern-code'])
    ajv.addKeyword({ keyword, schemaType: 'string' })
  ajv.addKeyword(collector('x-file', 'files'))
  ajv.addKeyword(collector('x-operation', 'operations'))
  return ajv
}

/** vigil's `duration` format (`500ms`, `30s`), the same object at run time and in generated code. */
const DURATION = { type: 'string' as const, validate: isDurationString }

/**
 * `x-file: <role>` marks a string that names a file the plan reads (plans/files.ts checks where it leads);
 * `x-operation: <role>` a string that names an operation of the document the block names for that role
 * (`x-operation: openapi`: an operationId of its `openapi` file, checked when plans load). Each keyword
 * generates code (so it can be compiled ahead of time) that adds each such string to a list of the context
 * the validator is called with (`validate.call({ files, operations }, data)`; ajv's `passContext`), and
 * does nothing when it is called without one.
 */
function collector(keyword: 'x-file' | 'x-operation', list: 'files' | 'operations'): CodeKeywordDefinition {
  const { _, strConcat, Name, getProperty } = codegen()
  // The names ajv's generated functions use for their context and the path of the value they validate.
  const self = new Name('this')
  const instancePath = new Name('instancePath')
  return {
    keyword,
    schemaType: 'string',
    code(cxt: KeywordCxt) {
      const { gen, data, schema, it } = cxt
      const pointer = strConcat(instancePath, it.errorPath)
      const target = _`${self}${getProperty(list)}`
      gen.if(_`typeof ${data} == "string" && ${self} && ${target}`, () =>
        gen.code(_`${target}.push({ pointer: ${pointer}, value: ${data}, role: ${schema as string} })`),
      )
    },
  }
}

/**
 * A string a schema marks with `x-file` (a file, or for the role `folder` a folder, the plan names) or with
 * `x-operation` (an operation of the document of that role).
 */
export interface FileReference {
  /** JSON pointer of the string in the validated value. */
  pointer: string
  value: string
  role: string
}

/** Validates `data` and returns the `x-file` and `x-operation` strings it holds, each pointer once. */
export function validateCollectingFiles(
  validate: ValidateFunction,
  data: unknown,
): { valid: boolean; files: FileReference[]; operations: FileReference[] } {
  const files: FileReference[] = []
  const operations: FileReference[] = []
  const valid = validate.call({ files, operations }, data) as boolean
  // A string in a oneOf branch can be seen once per branch tried.
  const unique = (list: FileReference[]) => [...new Map(list.map((f) => [f.pointer, f])).values()]
  return { valid, files: unique(files), operations: unique(operations) }
}

const shared = new Map<Dialect, Ajv>()
const compiled = new WeakMap<object, ValidateFunction>()

/**
 * The validator of one of vigil's schemas, made once per schema object and reused: the code generated for
 * it at build time when there is some (the built CLI), else compiled on the shared instance of its dialect.
 * A schema whose `$id` is already taken by another object gets an Ajv of its own.
 */
export function validatorFor<T = unknown>(
  schema: JsonSchema | Readonly<Record<string, unknown>>,
): ValidateFunction<T> {
  let validate = compiled.get(schema)
  if (validate) return validate as ValidateFunction<T>
  validate = precompiled(schema)
  if (!validate) {
    const dialect = dialectOf(schema)
    let ajv = shared.get(dialect)
    if (!ajv) shared.set(dialect, (ajv = createAjv({ dialect })))
    const id = typeof schema.$id === 'string' ? schema.$id : undefined
    if (id !== undefined && ajv.getSchema(id)) ajv = createAjv({ dialect })
    validate = ajv.compile(schema)
  }
  compiled.set(schema, validate)
  return validate as ValidateFunction<T>
}

/**
 * Validators generated at build time (bin/build.js) live beside the built module, in `validators/`: one
 * CommonJS module per schema, named by {@link schemaKey}, and `index.json`, the list of keys. A schema is
 * found there by its content, so a build that is out of date is never wrong, only slower: what it lacks is
 * compiled. Run from the TypeScript sources, there is no such folder.
 */
export const PRECOMPILED_DIR = 'validators'
const PRECOMPILED_INDEX = 'index.json'
/** The formats generated code reads, filled by {@link precompiled} before a validator loads. */
const FORMATS_FILE = 'formats.cjs'

let precompiledKeys: ReadonlySet<string> | undefined
let formatsFilled = false

/** The key of a schema among the generated validators: a hash of its JSON text. */
export function schemaKey(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 32)
}

function precompiled(schema: object): ValidateFunction | undefined {
  const dir = new URL(`./${PRECOMPILED_DIR}/`, import.meta.url)
  if (!precompiledKeys) {
    try {
      precompiledKeys = new Set(JSON.parse(readFileSync(new URL(PRECOMPILED_INDEX, dir), 'utf8')) as string[])
    } catch {
      precompiledKeys = new Set()
    }
  }
  if (precompiledKeys.size === 0) return undefined
  const key = schemaKey(schema)
  if (!precompiledKeys.has(key)) return undefined
  if (!formatsFilled) {
    const { fullFormats } = load('ajv-formats/dist/formats') as { fullFormats: Record<string, unknown> }
    Object.assign(load(fileURLToPath(new URL(FORMATS_FILE, dir))) as object, fullFormats, {
      duration: DURATION,
    })
    formatsFilled = true
  }
  return load(fileURLToPath(new URL(`${key}.cjs`, dir))) as ValidateFunction
}

/**
 * The files of `validators/` for these schemas (file name → text): each schema's validator as a CommonJS
 * module of ajv's standalone code, optimised, with vigil's annotations, `x-file` and formats; the formats
 * module; the index. The generated code requires ajv's small run-time helpers, not its compiler.
 */
export function precompiledFiles(schemas: Iterable<object>): Record<string, string> {
  const standalone = (load('ajv/dist/standalone') as { default: (ajv: Ajv, v: ValidateFunction) => string })
    .default
  const files: Record<string, string> = {
    [FORMATS_FILE]:
      "'use strict'\n// vigil's formats by name: plans/ajv.js fills this object before a validator here loads.\nmodule.exports = {}\n",
  }
  const keys: string[] = []
  for (const schema of schemas) {
    const key = schemaKey(schema)
    if (keys.includes(key)) continue
    const ajv = createAjv({ dialect: dialectOf(schema as Record<string, unknown>), source: true })
    files[`${key}.cjs`] = `${standalone(ajv, ajv.compile(schema))}\n`
    keys.push(key)
  }
  files[PRECOMPILED_INDEX] = `${JSON.stringify(keys.sort(), null, 2)}\n`
  return files
}

export type { ErrorObject, ValidateFunction }
