/**
 * The selection cache: one JSON file per key under `.vigil/cache/selections/` of the config's folder (or
 * `--cache-dir`). The key is sha256 over everything that decides the answer — the selector, the endpoint,
 * the prompt version and every request as sent (model, system prompt, catalog, tool schema, diff,
 * max_tokens) — so re-running CI on the same change makes no API call, and any change to what would be
 * asked, or where, misses. Only accepted answers are stored (never a degraded or incomplete one); an entry
 * that is corrupt, or does not account for exactly the catalog's plans, is ignored and overwritten.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import type { Redactor } from '../plans/redact.js'
import type { RejectedPlan, SelectedPlan, TokenUsage } from './types.js'

/** The part of an accepted LLM answer worth keeping. */
export interface CachedAnswer {
  version: 2
  key: string
  model: string
  promptVersion: string
  selected: SelectedPlan[]
  rejected: RejectedPlan[]
  /** Usage of the requests that produced the answer (this run made none). */
  usage: TokenUsage
}

const entry = z.object({ name: z.string().min(1), reason: z.string().min(1) })
const cachedShape = z.object({
  version: z.literal(2),
  key: z.string(),
  model: z.string(),
  promptVersion: z.string(),
  selected: z.array(entry.extend({ source: z.literal('llm') })),
  rejected: z.array(entry.extend({ source: z.literal('llm') })),
  usage: z.object({
    requests: z.number(),
    inputTokens: z.number(),
    outputTokens: z.number(),
    cacheCreationInputTokens: z.number(),
    cacheReadInputTokens: z.number(),
  }),
})

/** What a cache key is computed from. */
export interface CacheKeyParts {
  selector: string
  /** The API base URL the requests go to. */
  endpoint: string
  promptVersion: string
  /** The request bodies, one per batch, exactly as sent. */
  requests: readonly unknown[]
}

export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex')
}

/**
 * The cached answer for `key`, if there is a sound one: it must name each of `catalog`'s plans exactly
 * once, selected or rejected.
 */
export async function readCached(
  dir: string,
  key: string,
  catalog: readonly string[],
): Promise<CachedAnswer | undefined> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(path.join(dir, `${key}.json`), 'utf8'))
  } catch {
    return undefined
  }
  const parsed = cachedShape.safeParse(value)
  if (!parsed.success || parsed.data.key !== key) return undefined
  const named = [...parsed.data.selected, ...parsed.data.rejected].map((p) => p.name).sort()
  const expected = [...catalog].sort()
  if (named.length !== expected.length || named.some((name, i) => name !== expected[i])) return undefined
  return parsed.data
}

/**
 * Writes atomically (temp file + rename) so concurrent CI jobs never read half a file. With a redactor,
 * the answer is redacted whole first: a reply that echoes the API key or a secret never lands on disk.
 */
export async function writeCached(dir: string, answer: CachedAnswer, redactor?: Redactor): Promise<void> {
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, `${answer.key}.json`)
  const temp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`
  await writeFile(
    temp,
    `${JSON.stringify(redactor ? redactor.json(answer) : answer, null, 2)}
`,
  )
  await rename(temp, file)
}
