/**
 * The check kinds' block schemas as JSON Schema files, `plans/schema/checks/<kind>.json`, generated from
 * each kind's `meta.schema` by `npm run schemas`: editors use them for completion, and plans/ validates with
 * them when it is given no registry. test/plans/check-schemas.test.ts fails when a committed file is stale.
 */
import { readdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { checkKinds } from '../kinds/index.js'

/** Where the files live, relative to the package's root. */
export const CHECK_SCHEMA_DIR = 'plans/schema/checks'

/** Each kind's schema file as a document, by file name (`contract.json`). */
export function checkSchemaDocuments(
  kinds: Readonly<Record<string, { meta: { description?: string; schema: object } }>> = checkKinds,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {}
  for (const name of Object.keys(kinds).sort()) {
    const { meta } = kinds[name]!
    const schema = JSON.parse(JSON.stringify(meta.schema)) as Record<string, unknown>
    out[`${name}.json`] = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: `https://vigil.dev/schema/checks/${name}.json`,
      title: `${name} check`,
      ...(meta.description ? { description: meta.description } : {}),
      ...schema,
    }
  }
  return out
}

/**
 * Writes every kind's file under `root`, formatted by `format` (the project's prettier), and removes the
 * files of kinds that no longer exist. Returns the files written.
 */
export async function writeCheckSchemas(
  root: string,
  format: (text: string) => Promise<string> = async (text) => text,
): Promise<string[]> {
  const dir = path.join(root, CHECK_SCHEMA_DIR)
  const documents = checkSchemaDocuments()
  for (const file of await readdir(dir)) {
    if (file.endsWith('.json') && !(file in documents)) await rm(path.join(dir, file))
  }
  const written: string[] = []
  for (const [file, document] of Object.entries(documents)) {
    await writeFile(path.join(dir, file), await format(`${JSON.stringify(document, null, 2)}\n`))
    written.push(path.join(CHECK_SCHEMA_DIR, file))
  }
  return written
}
