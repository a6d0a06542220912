/**
 * The layer rule (eslint.layers.js) through ESLint's own API, with the project's config: a deliberate
 * back-import in a kind's folder fails with the rule's message, and the imports a kind may make pass.
 * The source is linted as if it were a file in that folder (`lintText` with `filePath`): nothing is
 * written into the source tree, so a failing test cannot leave a stray file behind for tsc to trip on.
 */
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
let eslint: ESLint

beforeAll(() => {
  eslint = new ESLint({ cwd: root })
})

/** The `vigil/layers` messages for `code` linted as the file `file` (relative to the repository). */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${file}` })
  return result!.messages.filter((m) => m.ruleId === 'vigil/layers').map((m) => m.message)
}

describe('the layer rule', { timeout: 60_000 }, () => {
  it('fails a kind that imports the run, naming both files and what a kind may import', async () => {
    const errors = await layerErrors(
      'engine/kinds/contract/probe.ts',
      "import { runValidation } from '../../run/run.js'\nexport const probe = runValidation\n",
    )
    expect(errors).toEqual([
      'engine/kinds/contract/probe.ts may not import engine/run/run.js: a check kind imports its own folder, ' +
        'engine/api/ and the shared services; never another kind, a provider, an executor or the run ' +
        '(layer rule, eslint.layers.js).',
    ])
  })

  it('fails a kind that imports another kind, a provider or an executor, by type, re-export or dynamic import', async () => {
    const errors = await layerErrors(
      'engine/kinds/contract/probe.ts',
      [
        "import type { LoadSpec } from '../load/spec.js'",
        "export { default } from '../../sandboxes/process/provider.js'",
        "export const later = () => import('../../executors/local/executor.js')",
        'export type Spec = LoadSpec',
      ].join('\n'),
    )
    expect(errors.map((e) => e.split(':')[0])).toEqual([
      'engine/kinds/contract/probe.ts may not import engine/kinds/load/spec.js',
      'engine/kinds/contract/probe.ts may not import engine/sandboxes/process/provider.js',
      'engine/kinds/contract/probe.ts may not import engine/executors/local/executor.js',
    ])
  })

  it('passes what a kind may import: its own folder, the api and the shared services', async () => {
    const errors = await layerErrors(
      'engine/kinds/contract/probe.ts',
      [
        "import { defineCheckKind } from '../../api/kind.js'",
        "import { HttpNetworkError } from '../../http/client.js'",
        "import type { Verdict } from '../../verdict.js'",
        "import { diffJson } from './diff.js'",
        "import type { Plan } from '../../../plans/types.js'",
        'export const all = [defineCheckKind, HttpNetworkError, diffJson]',
        'export type Both = [Verdict, Plan]',
      ].join('\n'),
    )
    expect(errors).toEqual([])
  })

  it('holds the top-level layering and the other plug-ins to theirs', async () => {
    const cases: Array<[file: string, code: string, message: RegExp]> = [
      ['plans/probe.ts', "import '../engine/errors.js'", /plans\/ is the lowest layer/],
      ['selectors/probe.ts', "import '../reporters/json.js'", /selectors\/ imports only plans\//],
      ['reporters/probe.ts', "import '../engine/run/run.js'", /reporters\/ imports only the verdict types/],
      ['engine/sandboxes/url/probe.ts', "import '../process/provider.js'", /never another provider/],
      [
        'engine/executors/kubernetes/probe.ts',
        "import '../local/check-runner.js'",
        /an executor imports its own folder/,
      ],
      [
        'engine/api/probe.ts',
        "import '../kinds/contract/kind.js'",
        /engine\/api\/ imports only the shared services/,
      ],
      [
        'engine/http/probe.ts',
        "import '../api/kind.js'",
        /shared services of engine\/ sit below engine\/api\//,
      ],
      ['engine/run/probe.ts', "import '../kinds/load/kind.js'", /the run imports the registries/],
    ]
    for (const [file, code, message] of cases) {
      const errors = await layerErrors(file, `${code}\nexport {}\n`)
      expect(errors, `${file}: ${code}`).toHaveLength(1)
      expect(errors[0], file).toMatch(message)
    }
    expect(
      await layerErrors(
        'reporters/probe.ts',
        "import type { Verdict } from '../engine/verdict.js'\nexport type V = Verdict\n",
      ),
    ).toEqual([])
    expect(
      await layerErrors(
        'engine/run/probe.ts',
        "import { checkKinds } from '../kinds/index.js'\nexport const k = checkKinds\n",
      ),
    ).toEqual([])
  })
})
