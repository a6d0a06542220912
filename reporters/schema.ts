/**
 * The verdict's published JSON Schema (draft 2020-12) and a validator for it.
 * The schema file ships in the package as `reporters/schema/verdict.json`.
 */
import { validatorFor, type ErrorObject } from '../plans/ajv.js'
import schema from './schema/verdict.json' with { type: 'json' }
import type { Verdict } from '../engine/verdict.js'

/** The schema's `$id`; the JSON reporter writes it as the verdict's `$schema`. */
export const VERDICT_SCHEMA_ID = 'urn:vigil:schema:verdict:3'

/** The verdict's JSON Schema, as an object. */
export const verdictSchema: Readonly<Record<string, unknown>> = schema

/** The outcome of {@link validateVerdict}: either valid, or the reasons it is not. */
export type VerdictValidation = { valid: true; errors: [] } | { valid: false; errors: string[] }

/**
 * Validates a value (a verdict object, or a parsed JSON report) against the schema.
 * Errors read `/plans/0/checks/1 must have required property 'note'`, sorted, one per problem.
 */
export function validateVerdict(value: unknown): VerdictValidation {
  // Compiled on first use, once: most runs never validate a verdict.
  const validate = validatorFor(schema)
  if (validate(value)) return { valid: true, errors: [] }
  return { valid: false, errors: formatErrors(validate.errors ?? []) }
}

/** True when `value` matches the verdict schema; narrows its type. */
export function isVerdict(value: unknown): value is Verdict {
  return validateVerdict(value).valid
}

function formatErrors(errors: readonly ErrorObject[]): string[] {
  // `if` errors only say "must match the then schema"; the then-branch's own errors say what is wrong.
  const lines = errors
    .filter((e) => e.keyword !== 'if')
    .map((e) => {
      const where = e.instancePath || '/'
      // A property a branch forbids (request and response on evidence other than http).
      if (e.keyword === 'false schema') return `${where} must not be present here`
      const extra =
        e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties'
          ? ` (${String(Object.values(e.params)[0])})`
          : e.keyword === 'enum' || e.keyword === 'const'
            ? ` (${JSON.stringify(e.params.allowedValues ?? e.params.allowedValue)})`
            : ''
      return `${where} ${e.message ?? e.keyword}${extra}`
    })
  return [...new Set(lines)].sort()
}
