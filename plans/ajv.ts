import { Ajv } from 'ajv'
import type { ErrorObject, ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { isDurationString } from './duration.js'
import type { JsonSchema } from './types.js'

// ajv-formats is CommonJS with a default export; under nodenext the default import is the module itself.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv

function createAjv(): Ajv {
  // allErrors: a plan author wants every problem at once. verbose: messages quote the offending value.
  // strict off: check kinds may annotate their schemas with keywords ajv does not know.
  // code.optimize off: compiling the kinds' schemas is most of what `vigil plans lint` costs, and ajv's
  // optimising pass over the generated code takes about 40% of it (measured on the shop: lint 620 -> 510
  // ms CPU), while loading 1,000 plans validates no slower (test/bench/plans.bench.ts).
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: false,
    allowUnionTypes: true,
    code: { optimize: false },
  })
  addFormats(ajv)
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

const shared = createAjv()
const compiled = new WeakMap<JsonSchema, ValidateFunction>()

/**
 * The validator of a schema, compiled once per schema object and reused. A schema whose `$id` is already
 * taken by another object (a kind replacing a fallback schema) gets an ajv of its own.
 */
export function validatorFor(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema)
  if (validate) return validate
  const id = typeof schema.$id === 'string' ? schema.$id : undefined
  const ajv = id !== undefined && shared.getSchema(id) ? createAjv() : shared
  validate = ajv.compile(schema)
  compiled.set(schema, validate)
  return validate
}

export type { ErrorObject }
