/** Loading plans for a run: the config's plan roots, with each check kind's block schema from the registry. */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import type { LoadedConfig } from '../../plans/config.js'
import { ConfigError } from '../../plans/errors.js'
import { fileRoots } from '../../plans/files.js'
import { loadPlans } from '../../plans/loader.js'
import type { LoadPlansResult } from '../../plans/loader.js'
import type { BlockLint } from '../../plans/parse-plan.js'
import type { JsonSchema } from '../../plans/types.js'
import { checkKinds } from '../kinds/index.js'

/** Block schema per check kind, from the registry: the word a fence uses → the kind's `meta.schema`. */
export function checkSchemas(): Record<string, JsonSchema> {
  return Object.fromEntries(
    Object.entries(checkKinds as Record<string, { meta: { schema: JsonSchema } }>).map(([name, kind]) => [
      name,
      kind.meta.schema,
    ]),
  )
}

/**
 * Loads the plans of a run. `roots` (relative to `cwd`) replace the config's `plans` (relative to the
 * config's folder); reported file paths are relative to `cwd`.
 */
export async function loadPlansForRun(
  loaded: LoadedConfig,
  roots?: readonly string[],
  cwd: string = process.cwd(),
): Promise<LoadPlansResult> {
  const resolved = roots?.length
    ? roots.map((root) => path.resolve(cwd, root))
    : loaded.config.plans.map((root) => path.resolve(loaded.dir, root))
  if (!loaded.found && !roots?.length) await requireConfig(loaded, resolved, cwd)
  const fileRoots = await projectFileRoots(loaded)
  const { config } = loaded
  const variables = {
    env: config.env,
    secrets: Object.keys(config.secrets),
    ...(config.sandbox?.services ? { services: Object.keys(config.sandbox.services) } : {}),
  }
  return loadPlans({
    roots: resolved,
    cwd,
    checkSchemas: checkSchemas(),
    checkLints: checkLints(),
    fileRoots,
    variables,
  })
}

/**
 * Without a config file and without the default plans folder there is nothing to run: say which file was
 * looked for, rather than that the default `plans` folder cannot be read.
 * @throws ConfigError
 */
async function requireConfig(loaded: LoadedConfig, roots: readonly string[], cwd: string): Promise<void> {
  const present = await Promise.all(
    roots.map((root) =>
      stat(root).then(
        () => true,
        () => false,
      ),
    ),
  )
  if (present.some(Boolean)) return
  const folder = path.relative(cwd, loaded.dir) || '.'
  const name = path.basename(loaded.file)
  throw new ConfigError(
    `no ${name} in ${folder === '.' ? 'this folder' : folder}; run vigil init, or pass --config <file>`,
  )
}

/** Each kind's own lint of its blocks (`meta.lint`), for the kinds that have one. */
export function checkLints(): Record<string, BlockLint> {
  const lints: Record<string, BlockLint> = {}
  for (const [name, kind] of Object.entries(checkKinds as Record<string, { meta: { lint?: BlockLint } }>))
    if (kind.meta.lint) lints[name] = kind.meta.lint
  return lints
}

/** The folders the config's plans may read files from: the project and the config's `allowFiles`. */
export function projectFileRoots(loaded: LoadedConfig): Promise<string[]> {
  return fileRoots(loaded.dir, loaded.config.allowFiles)
}
