/**
 * The validators of vigil's own schemas, generated at build time (bin/build.js writes them into
 * dist/plans/validators/): the built CLI validates a plan, a config or a record without compiling a schema,
 * and without loading Ajv's compiler. plans/ajv.ts finds them by content and compiles whatever is not here.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PRECOMPILED_DIR, precompiledFiles } from '../../plans/ajv.js'
import { defaultCheckSchemas, schemas } from '../../plans/schemas.js'
import { verdictSchema } from '../../reporters/schema.js'
import { labelledChangesSchema } from '../../selectors/eval-load.js'
import { selectionRecordSchema } from '../../selectors/record.js'
import { checkKinds } from '../kinds/index.js'
import { sandboxProviders } from '../sandboxes/index.js'

/**
 * The schemas vigil validates with on its own paths: the plans' (frontmatter, config, lint report, the
 * kinds' blocks as shipped and as registered), the sandbox providers' options, the verdict, the selection
 * record and labelled changes. The Kubernetes executor's options compile on first use (a run on it only).
 */
export function ownSchemas(): Array<Readonly<Record<string, unknown>>> {
  return [
    schemas.frontmatter,
    schemas.config,
    schemas.lintReport,
    ...Object.values(defaultCheckSchemas),
    ...Object.values(checkKinds).map((kind) => kind.meta.schema),
    ...Object.values(sandboxProviders).map((provider) => provider.schema),
    verdictSchema,
    selectionRecordSchema,
    labelledChangesSchema,
  ]
}

/** Writes the generated validators into `<dir>/validators/` (dir: the built plans/), replacing what was there. */
export async function writeValidators(dir: string): Promise<number> {
  const out = path.join(dir, PRECOMPILED_DIR)
  const files = precompiledFiles(ownSchemas())
  await rm(out, { recursive: true, force: true })
  await mkdir(out, { recursive: true })
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(out, name), text)
  return Object.keys(files).length
}
