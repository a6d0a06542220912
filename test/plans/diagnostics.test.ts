import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { formatDiagnostic, loadPlans } from '../../plans/index.js'
import type { JsonSchema } from '../../plans/index.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const dir = 'test/plans/fixtures/errors'

/** A registry-like strict contract schema, as a check kind would contribute it. */
const contract: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['request'],
  properties: {
    request: { type: ['string', 'object'] },
    expect: { type: 'object' },
    compare: { type: 'string' },
  },
}
const checkSchemas = {
  contract,
  e2e: (await import('../../plans/schema/checks/e2e.json', { with: { type: 'json' } })).default as JsonSchema,
  load: (await import('../../plans/schema/checks/load.json', { with: { type: 'json' } }))
    .default as JsonSchema,
  adversarial: {},
}

/** Every error class, its fixture, and the exact lines `vigil plans lint` prints for it. */
const cases: Array<{ name: string; files: string[]; lines: string[] }> = [
  {
    name: 'unknown property, with the allowed ones and a did-you-mean (frontmatter and block)',
    files: ['unknown-property.md'],
    lines: [
      'unknown-property.md:5:1 unknown property "titel"; expected one of name, title, selectionHint, paths, tags, always, blocking, timeout, vars, owner (did you mean "title"?)',
      'unknown-property.md:10:1 contract: unknown property "expec"; expected one of request, expect, compare (did you mean "expect"?)',
    ],
  },
  {
    name: 'wrong type, pointing at the value',
    files: ['wrong-type.md'],
    lines: [
      'wrong-type.md:5:11 blocking must be true or false, got "yes"',
      'wrong-type.md:6:7 tags must be a list, got "payments"',
      'wrong-type.md:10:10 load: request must be a string or a mapping, got 5',
    ],
  },
  {
    name: 'missing required field: frontmatter at its opening line, block at its fence',
    files: ['missing-field.md'],
    lines: [
      'missing-field.md:1:1 missing required property "title"',
      'missing-field.md:6:1 e2e: missing required property "steps"',
      'missing-field.md:7:1 e2e: unknown property "service"; expected one of steps, sides',
    ],
  },
  {
    name: 'invalid YAML in the frontmatter and in a block',
    files: ['invalid-yaml.md'],
    lines: [
      'invalid-yaml.md:4:1 invalid YAML in frontmatter: Flow sequence in block collection must be sufficiently indented and end with a ]',
      'invalid-yaml.md:8:10 invalid YAML in contract block: Nested mappings are not allowed in compact mappings',
    ],
  },
  {
    name: 'duplicate plan name across files, at both locations',
    files: ['duplicate-a.md', 'duplicate-b.md'],
    lines: [
      `duplicate-a.md:2:7 duplicate plan name "same-name"; also defined at ${dir}/duplicate-b.md:3:7`,
      `duplicate-b.md:3:7 duplicate plan name "same-name"; also defined at ${dir}/duplicate-a.md:2:7`,
    ],
  },
  {
    name: 'too-short selectionHint',
    files: ['selection-hint.md'],
    lines: [
      'selection-hint.md:4:16 selectionHint is too short (6 characters, at least 20); say in a few words what the plan validates and which changes should select it',
    ],
  },
  {
    name: 'empty selectionHint',
    files: ['empty-hint.md'],
    lines: [
      'empty-hint.md:4:16 selectionHint is empty; say in a few words what the plan validates and which changes should select it',
    ],
  },
  {
    name: 'invalid globs in paths',
    files: ['invalid-glob.md'],
    lines: [
      'invalid-glob.md:7:5 invalid glob "services/{orders,cart" in paths: has an unclosed "{"',
      'invalid-glob.md:8:5 invalid glob "/etc/passwd" in paths: is absolute; paths are relative to the repository root',
    ],
  },
  {
    name: 'unknown check kind that looks like one; other fences are documentation',
    files: ['unknown-kind.md'],
    lines: [
      'unknown-kind.md:7:4 unknown check kind "contrct"; did you mean "contract"?',
      'unknown-kind.md:11:4 unknown check kind "contract-v2"; did you mean "contract"?',
    ],
  },
  {
    name: 'name not kebab-case, timeout not a duration',
    files: ['bad-name.md'],
    lines: [
      'bad-name.md:2:7 name must be kebab-case (lowercase letters and digits joined by single hyphens, e.g. "checkout-order"), got "Bad_Name"',
      'bad-name.md:5:10 timeout must be a duration like 500ms, 30s, 5m or 1h, got "soon"',
    ],
  },
  {
    name: 'errors inside an indented fence are file positions',
    files: ['nested-errors.md'],
    lines: [
      'nested-errors.md:13:7 e2e: missing required property "request" in steps[1]',
      'nested-errors.md:14:16 e2e: steps[1].capture must be a mapping, got 3',
    ],
  },
  {
    name: 'a plan without checks is a warning',
    files: ['no-checks.md'],
    lines: [
      'no-checks.md:1:1 warning: plan has no check blocks (contract, e2e, load, adversarial); it can be selected but validates nothing',
    ],
  },
  {
    name: 'unclosed check fence',
    files: ['unclosed-fence.md'],
    lines: ['unclosed-fence.md:7:1 contract block is never closed; end it with a line of ```'],
  },
  {
    name: 'unclosed frontmatter',
    files: ['unclosed-frontmatter.md'],
    lines: ['unclosed-frontmatter.md:1:1 frontmatter is never closed; end it with a line of ---'],
  },
  {
    name: 'frontmatter in another language is refused, never evaluated',
    files: ['js-frontmatter.md'],
    lines: ['js-frontmatter.md:1:4 frontmatter must be YAML, got "js"'],
  },
  {
    name: 'checks without frontmatter',
    files: ['no-frontmatter.md'],
    lines: [
      'no-frontmatter.md:1:1 missing frontmatter: a plan starts with a --- block holding name, title and selectionHint',
    ],
  },
]

describe('plan diagnostics', () => {
  it.each(cases)('$name', async ({ files, lines }) => {
    const result = await loadPlans({ roots: files.map((f) => `${dir}/${f}`), cwd: repo, checkSchemas })
    expect(result.diagnostics.map(formatDiagnostic)).toEqual(lines.map((l) => `${dir}/${l}`))
    if (lines.some((l) => !l.includes(' warning: '))) expect(result.plans).toEqual([])
  })

  it('keeps loading the good plans when others are broken, and sorts diagnostics by file, line, column', async () => {
    const result = await loadPlans({ roots: [dir, 'test/plans/fixtures/valid'], cwd: repo, checkSchemas })
    expect(result.plans.map((p) => p.name)).toEqual(['a-minimal', 'checkout-order', 'no-checks'])
    const keys = result.diagnostics.map((d) => [d.file, d.line, d.column] as const)
    const sorted = [...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1] || a[2] - b[2]))
    expect(keys).toEqual(sorted)
    const perFile = new Set(result.diagnostics.map((d) => d.file.split('/').pop()))
    expect(perFile.size).toBe(17)
  })

  it('names the plan in each diagnostic when the name is known', async () => {
    const result = await loadPlans({ roots: [`${dir}/wrong-type.md`], cwd: repo, checkSchemas })
    expect(new Set(result.diagnostics.map((d) => d.plan))).toEqual(new Set(['wrong-type']))
  })

  it('reports a missing root and an empty one', async () => {
    const result = await loadPlans({ roots: ['no/such/folder', 'test/plans/fixtures/*.txt'], cwd: repo })
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'no/such/folder:1:1 cannot read plans from "no/such/folder": no such file or folder',
      'test/plans/fixtures/*.txt:1:1 warning: no plan files (*.md) found in "test/plans/fixtures/*.txt"',
    ])
  })
})
