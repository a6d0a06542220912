/**
 * The selection cache: one JSON file per key under `.vigil/cache/selections/` of the config's folder (or
 * `--cache-dir`). The key is sha256 over the model, the prompt version, the rendered catalog and diff and
 * the batching, so re-running CI on the same change makes no API call, and any change to what the model
 * would see misses. Only successful LLM answers are stored; a corrupt entry is ignored and overwritten.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { RejectedPlan, SelectedPlan, TokenUsage } from './types.js'

/** The part of an LLM answer worth keeping. */
export interface CachedAnswer {
  version: 1
  key: string
  model: string
  promptVersion: string
  selected: SelectedPlan[]
  rejected: RejectedPlan[]
  unknown: Array<{ name: string; reason: string }>
  /** Usage of the requests that produced the answer (this run made none). */
  usage: TokenUsage
}

export function cacheKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex')
}

export async function readCached(dir: string, key: string): Promise<CachedAnswer | undefined> {
  try {
    const value = JSON.parse(await readFile(path.join(dir, `${key}.json`), 'utf8')) as Partial<CachedAnswer>
    if (
      value.version !== 1 ||
      value.key !== key ||
      !Array.isArray(value.selected) ||
      !Array.isArray(value.rejected)
    )
      return undefined
    return { ...value, unknown: value.unknown ?? [] } as CachedAnswer
  } catch {
    return undefined
  }
}

/** Writes atomically (temp file + rename) so concurrent CI jobs never read half a file. */
export async function writeCached(dir: string, answer: CachedAnswer): Promise<void> {
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, `${answer.key}.json`)
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`
  await writeFile(temp, `${JSON.stringify(answer, null, 2)}\n`)
  await rename(temp, file)
}
