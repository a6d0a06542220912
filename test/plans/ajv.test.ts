import { describe, expect, it } from 'vitest'
import { createAjv, dialectOf, validatorFor } from '../../plans/ajv.js'
import { schemas } from '../../plans/schemas.js'
import { verdictSchema } from '../../reporters/schema.js'
import { selectionRecordSchema } from '../../selectors/record.js'
import { checkKinds } from '../../engine/kinds/index.js'
import { sandboxProviders } from '../../engine/sandboxes/index.js'
import { jobExecutorSchema } from '../../engine/executors/kubernetes/options.js'

describe('the Ajv factory', () => {
  it('compiles each schema once and hands the same validator back', () => {
    const schema = { type: 'object', properties: { a: { type: 'integer' } } }
    expect(validatorFor(schema)).toBe(validatorFor(schema))
    expect(validatorFor(schema)({ a: 1 })).toBe(true)
    expect(validatorFor(schema)({ a: 'x' })).toBe(false)
  })

  it('reads the dialect from $schema: 2020-12 keywords work there', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'array',
      prefixItems: [{ type: 'string' }],
      items: false,
    }
    expect(dialectOf(schema)).toBe('2020-12')
    expect(validatorFor(schema)(['a'])).toBe(true)
    expect(validatorFor(schema)(['a', 'b'])).toBe(false)
  })

  it("knows vigil's duration in vigil's schemas, and ISO 8601's in a user's document", () => {
    const schema = { type: 'string', format: 'duration' }
    expect(validatorFor({ ...schema })('30s')).toBe(true)
    expect(validatorFor({ ...schema })('P3D')).toBe(false)
    const documents = createAjv({ documents: true }).compile({ ...schema })
    expect(documents('P3D')).toBe(true)
    expect(documents('30s')).toBe(false)
  })

  it("knows OpenAPI's formats in a user's document", () => {
    const int32 = createAjv({ documents: true }).compile({ type: 'integer', format: 'int32' })
    expect(int32(2 ** 31 - 1)).toBe(true)
    expect(int32(2 ** 31)).toBe(false)
  })

  it('finds every problem at once, quoting the value', () => {
    const validate = validatorFor({ type: 'object', required: ['a', 'b'] })
    expect(validate({})).toBe(false)
    expect(validate.errors?.map((e) => e.params.missingProperty)).toEqual(['a', 'b'])
    expect(validate.errors?.[0]?.data).toEqual({})
  })

  it("compiles every schema vigil publishes or validates with in Ajv's strict mode", () => {
    const own: Array<[string, object]> = [
      ['frontmatter', schemas.frontmatter],
      ['config', schemas.config],
      ['lint report', schemas.lintReport],
      ['verdict', verdictSchema],
      ['selection record', selectionRecordSchema],
      ['kubernetes executor', jobExecutorSchema],
      ...Object.entries(checkKinds).map(([name, kind]): [string, object] => [
        `${name} kind`,
        kind.meta.schema,
      ]),
      ...Object.entries(sandboxProviders).map(([name, p]): [string, object] => [
        `${name} provider`,
        p.schema,
      ]),
    ]
    for (const [name, schema] of own) {
      const ajv = createAjv({ strict: true, dialect: dialectOf(schema as Record<string, unknown>) })
      expect(() => ajv.compile(schema), name).not.toThrow()
    }
  })
})
