/** vigil's cache folder for what is costly to make and safe to keep between runs (`$XDG_CACHE_HOME/vigil/…`). */
import os from 'node:os'
import path from 'node:path'

/** `$XDG_CACHE_HOME/vigil/<part>` (by default `~/.cache/vigil/<part>`); not created here. */
export function cacheDir(part: string): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(base, 'vigil', part)
}
