/**
 * `llm`: the plan catalog and the diff go to the Messages API (`@anthropic-ai/sdk`) with a forced
 * `select_plans` tool call. Catalogs larger than `batchSize` are split into batches sent in parallel
 * (p-limit); each batch's catalog is its own cacheable prefix. The whole selection has one deadline and
 * vigil's own retry policy (retry.ts). Replies are validated like untrusted input and must account for
 * every plan (reply.ts). When the model cannot give an accepted answer, `llm` — like `hybrid` — falls back
 * to the `rules` selection, marked `degraded` with the reason: never a clean empty pass.
 */
import path from 'node:path'
import { LlmError } from './errors.js'
import type { Selector } from './types.js'

export const llm: Selector = {
  description:
    'Asks the Messages API to pick plans from the catalog for the diff; falls back to rules, marked degraded.',
  needsApiKey: true,
  async select(context) {
    // The Messages API client loads on first use: a `rules` selection never pays for it.
    const { askModel, degradedSelection } = await import('./model.js')
    try {
      return await askModel(context, 'llm')
    } catch (error) {
      // No key is a usage error for an explicit `llm`: there is nothing to degrade from.
      if (!(error instanceof LlmError) || error.code === 'VIGIL_LLM_NO_KEY') throw error
      return degradedSelection(context, error)
    }
  },
}

/** The default cache folder of a config folder. */
export function defaultCacheDir(configDir: string): string {
  return path.join(configDir, '.vigil', 'cache', 'selections')
}
