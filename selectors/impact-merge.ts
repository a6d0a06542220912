/**
 * Updating an impact map with some plans re-recorded (a `vigil run --record-impact` of a few plans): the
 * re-recorded plans' entries are replaced, every other plan's kept — only when the kept entries still
 * describe the files as they are now, since a function's lines mean nothing in a file that changed.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { ImpactFile, ImpactFunction, ImpactMap } from './impact.js'

/**
 * `fresh` (recorded now, for `fresh.plans`) with what `old` says of every other plan; or, when a file of
 * `old` has changed since it was recorded, the list of those files (nothing is merged).
 */
export async function mergeImpactMaps(
  old: ImpactMap,
  fresh: ImpactMap,
  root: string,
): Promise<{ map: ImpactMap } | { stale: string[] }> {
  const redone = new Set(fresh.plans)
  const kept = (plans: readonly string[]) => plans.filter((p) => !redone.has(p))
  const stale: string[] = []
  const files: Record<string, ImpactFile> = {}
  for (const [rel, entry] of Object.entries(fresh.files))
    files[rel] = { ...entry, functions: [...entry.functions] }
  for (const [rel, entry] of Object.entries(old.files)) {
    const functions = entry.functions
      .map((fn) => ({ ...fn, plans: kept(fn.plans) }))
      .filter((fn) => fn.plans.length)
    if (!functions.length) continue
    const now = files[rel]?.sha256 ?? (await hashOf(path.join(root, rel)))
    if (now !== entry.sha256) {
      stale.push(rel)
      continue
    }
    const target = (files[rel] ??= { ...entry, functions: [] })
    for (const fn of functions) {
      const same = target.functions.find((f) => f.name === fn.name && sameLines(f, fn))
      if (same) same.plans = [...new Set([...same.plans, ...fn.plans])].sort()
      else target.functions.push(fn)
    }
    target.functions.sort(
      (a, b) => a.lines[0] - b.lines[0] || a.lines[1] - b.lines[1] || (a.name < b.name ? -1 : 1),
    )
  }
  if (stale.length) return { stale: stale.sort() }
  const packages: Record<string, string[]> = {}
  for (const name of [...new Set([...Object.keys(old.packages), ...Object.keys(fresh.packages)])].sort()) {
    const plans = [...new Set([...kept(old.packages[name] ?? []), ...(fresh.packages[name] ?? [])])].sort()
    if (plans.length) packages[name] = plans
  }
  return {
    map: {
      ...fresh,
      plans: [...new Set([...kept(old.plans), ...fresh.plans])].sort(),
      files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))),
      packages,
    },
  }
}

function sameLines(a: ImpactFunction, b: ImpactFunction): boolean {
  return a.lines[0] === b.lines[0] && a.lines[1] === b.lines[1]
}

async function hashOf(file: string): Promise<string | undefined> {
  const text = await readFile(file).catch(() => undefined)
  return text && createHash('sha256').update(text).digest('hex')
}
