/** Selecting the plans of a change: the selector resolved from flags, environment and config, then run. */
import path from 'node:path'
import type { LoadedConfig } from '../../plans/config.js'
import type { Plan } from '../../plans/types.js'
import { defaultCacheDir, resolveSelector, select } from '../../selectors/index.js'
import type { SelectionRecord, SelectorFlags } from '../../selectors/index.js'
import { configRedactor } from '../vars.js'
import type { ResolvedChange } from './change.js'

export interface SelectChangeInput {
  loaded: LoadedConfig
  /** The catalog: the plans that loaded without errors. */
  plans: readonly Plan[]
  change: ResolvedChange
  /** `--selector` and friends; unset ones come from the environment and the config. */
  flags?: SelectorFlags
  env: NodeJS.ProcessEnv
  /** Folder the config path is shown relative to in messages. */
  cwd: string
  signal?: AbortSignal
}

/** Runs the selector for a change and returns its record (`rules` offline, `hybrid` with an API key). */
export async function selectChange(input: SelectChangeInput): Promise<SelectionRecord> {
  const resolved = resolveSelector({
    config: input.loaded.config.selector,
    env: input.env,
    flags: input.flags ?? {},
    defaultCacheDir: defaultCacheDir(input.loaded.dir),
    where: path.relative(input.cwd, input.loaded.file) || 'vigil.config.yaml',
  })
  return select({
    plans: input.plans,
    diff: input.change.diff,
    root: input.loaded.dir,
    source: input.change.source,
    selector: resolved.selector,
    choice: resolved.choice,
    options: resolved.options,
    redactor: configRedactor(input.loaded, input.env),
    ...(input.signal ? { signal: input.signal } : {}),
  })
}
