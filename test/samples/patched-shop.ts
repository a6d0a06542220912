/** Temporary copies of the sample shop with one of its labelled changes applied, as `--patch` does. */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { SHOP_ROOT } from './shop-helper.js'

const run = promisify(execFile)

export const CHANGES_DIR = path.join(SHOP_ROOT, 'changes')

export interface ShopCopy {
  root: string
  /** `git apply` a patch (path relative to the copy, or absolute); `check` only verifies it applies. */
  apply(patch: string, options?: { check?: boolean }): Promise<void>
  remove(): Promise<void>
}

/** Copies samples/shop into a fresh temporary folder. */
export async function copyShop(): Promise<ShopCopy> {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'vigil-shop-'))
  const root = path.join(parent, 'shop')
  await cp(SHOP_ROOT, root, { recursive: true })
  return {
    root,
    async apply(patch, options = {}) {
      const args = ['apply', ...(options.check ? ['--check'] : []), path.resolve(root, patch)]
      // The ceiling keeps git from treating an enclosing repository as the one to patch.
      await run('git', args, {
        cwd: root,
        env: { ...process.env, GIT_CEILING_DIRECTORIES: parent },
        timeout: 15_000,
      })
    },
    remove: () => rm(parent, { recursive: true, force: true }),
  }
}

/** Files a unified diff touches (the `b/` side; the `a/` side for deletions), relative to the shop. */
export function touchedFiles(patch: string): string[] {
  const files = new Set<string>()
  for (const match of patch.matchAll(/^diff --git a\/(\S+) b\/(\S+)$/gm)) {
    files.add(match[1]!)
    files.add(match[2]!)
  }
  return [...files].sort()
}
