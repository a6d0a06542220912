/**
 * Calls back once a burst of saves under a folder has settled (debounced). Each folder is watched on its
 * own (fs.watch without `recursive`), leaving out git's, vigil's and installed packages' folders: a
 * recursive watch would follow a linked node_modules into thousands of folders.
 */
import { watch, type FSWatcher } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { IGNORED_FOLDERS } from './files.js'

export interface FolderWatch {
  close(): void
}

/**
 * Watches `root`; `onSettled` runs `debounceMs` after the last change of a burst, and is told when that
 * change was seen (`performance.now()`): a reader of the tree that began after it has seen the whole burst.
 */
export async function watchFolder(
  root: string,
  debounceMs: number,
  onSettled: (lastChangeAt: number) => void,
): Promise<FolderWatch> {
  const watchers = new Map<string, FSWatcher>()
  let timer: NodeJS.Timeout | undefined
  let closed = false
  const changed = (): void => {
    if (closed) return
    const at = performance.now()
    clearTimeout(timer)
    timer = setTimeout(() => {
      // New folders (a service's new module folder) are watched from now on.
      void scan().then(() => !closed && onSettled(at))
    }, debounceMs)
  }
  const scan = async (): Promise<void> => {
    const dirs = await folders(root)
    for (const dir of dirs) {
      if (watchers.has(dir) || closed) continue
      try {
        const w = watch(dir, () => changed())
        w.on('error', () => {
          w.close()
          watchers.delete(dir)
        })
        watchers.set(dir, w)
      } catch {
        // Gone between the scan and the watch: the next scan sees it.
      }
    }
    for (const [dir, w] of watchers)
      if (!dirs.includes(dir)) {
        w.close()
        watchers.delete(dir)
      }
  }
  await scan()
  return {
    close() {
      closed = true
      clearTimeout(timer)
      for (const w of watchers.values()) w.close()
      watchers.clear()
    },
  }
}

async function folders(root: string): Promise<string[]> {
  const out = [root]
  for (let i = 0; i < out.length; i++) {
    const entries = await readdir(out[i]!, { withFileTypes: true }).catch(() => [])
    for (const e of entries)
      if (e.isDirectory() && !IGNORED_FOLDERS.has(e.name)) out.push(path.join(out[i]!, e.name))
  }
  return out
}
