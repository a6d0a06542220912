/**
 * Plan `paths` globs against a diff's files. Globs are picomatch patterns relative to the config's folder;
 * `dir/` means everything under it, and a pattern without glob characters matches that file or anything
 * under that folder. Both sides of a rename count; files outside the config's folder never match.
 */
import picomatch from 'picomatch'
import type { Plan } from '../plans/types.js'
import type { ParsedDiff } from './types.js'

export interface PathMatch {
  /** The first of the plan's globs that matches `files[0]`, so a reason names a glob and a file it matched. */
  glob: string
  /** Every matching file (config-relative), sorted. */
  files: string[]
}

const matcherCache = new Map<string, (file: string) => boolean>()

function matcher(glob: string): (file: string) => boolean {
  let match = matcherCache.get(glob)
  if (!match) {
    const pattern = glob.replace(/^\.\//, '')
    if (pattern.endsWith('/')) match = picomatch(`${pattern}**`, { dot: true })
    else if (!picomatch.scan(pattern).isGlob)
      match = (file) => file === pattern || file.startsWith(`${pattern}/`)
    else match = picomatch(pattern, { dot: true })
    matcherCache.set(glob, match)
  }
  return match
}

/** Which of the plan's globs the diff touches, or undefined. */
export function matchPaths(plan: Plan, diff: ParsedDiff): PathMatch | undefined {
  if (!plan.paths.length) return undefined
  const globOf = new Map<string, string>()
  for (const glob of plan.paths) {
    const test = matcher(glob)
    for (const file of diff.files) {
      if (file.outside) continue
      for (const candidate of file.oldPath ? [file.path, file.oldPath] : [file.path]) {
        if (!globOf.has(candidate) && test(candidate)) globOf.set(candidate, glob)
      }
    }
  }
  if (globOf.size === 0) return undefined
  const files = [...globOf.keys()].sort()
  return { glob: globOf.get(files[0]!)!, files }
}

/** `paths orders/** matched orders/src/handler.js (+2 more)` */
export function pathsReason(match: PathMatch): string {
  const more = match.files.length > 1 ? ` (+${match.files.length - 1} more)` : ''
  return `paths ${match.glob} matched ${match.files[0]}${more}`
}
