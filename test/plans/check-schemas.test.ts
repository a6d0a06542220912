/**
 * The check kinds' schemas shipped in plans/schema/checks/ are generated from each kind's own `meta.schema`
 * (`npm run schemas`): this fails when a committed file is stale, missing or left over.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { defaultCheckSchemas } from '../../plans/schemas.js'
import { CHECK_SCHEMA_DIR, checkSchemaDocuments } from '../../engine/run/check-schemas.js'
import { checkKinds } from '../../engine/kinds/index.js'

const dir = fileURLToPath(new URL(`../../${CHECK_SCHEMA_DIR}/`, import.meta.url))
const STALE = `is stale: run \`npm run schemas\` and commit ${CHECK_SCHEMA_DIR}`

describe('the shipped check schemas', () => {
  const generated = checkSchemaDocuments()

  it('are one file per kind of the registry, and nothing else', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
    expect(files, STALE).toEqual(
      Object.keys(checkKinds)
        .sort()
        .map((k) => `${k}.json`),
    )
  })

  it.each(Object.keys(generated))('%s is what the kind defines', (file) => {
    // Compared as text (key order included), up to the formatting prettier gives the committed file.
    const committed = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as unknown
    expect(JSON.stringify(committed, null, 2), `${file} ${STALE}`).toBe(
      JSON.stringify(generated[file], null, 2),
    )
  })

  it("are what plans/ validates with when it is given no registry, the kinds' own schemas", () => {
    expect(Object.keys(defaultCheckSchemas).sort()).toEqual(Object.keys(checkKinds).sort())
    for (const [kind, schema] of Object.entries(defaultCheckSchemas)) {
      const { $schema: _s, $id: _i, title: _t, description: _d, ...own } = schema as Record<string, unknown>
      const {
        title: _kt,
        description: _kd,
        ...kindOwn
      } = JSON.parse(JSON.stringify(checkKinds[kind as keyof typeof checkKinds].meta.schema)) as Record<
        string,
        unknown
      >
      expect(own, kind).toEqual(kindOwn)
    }
  })

  it('notice a change to a kind: a schema with one more property is not the committed one', () => {
    const contract = checkKinds.contract
    const changed = checkSchemaDocuments({
      contract: {
        meta: {
          ...contract.meta,
          schema: {
            ...contract.meta.schema,
            properties: { ...(contract.meta.schema.properties as object), extra: { type: 'string' } },
          },
        },
      },
    })
    const committed = JSON.parse(readFileSync(`${dir}contract.json`, 'utf8')) as unknown
    expect(committed).not.toEqual(changed['contract.json'])
  })
})
