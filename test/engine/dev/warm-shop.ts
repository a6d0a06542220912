/**
 * A git repository holding a copy of the sample shop, for warm-session tests: its services resolve their
 * packages through a `node_modules` link inside the copy (ignored by git there), and edits are plain
 * file writes the session must notice.
 */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const SHOP = path.join(REPO, 'samples/shop')

export interface GitShop {
  /** The shop's folder: the repository's top level and the config's folder. */
  root: string
  git(...args: string[]): Promise<string>
  /** Replaces the first occurrence of `from` in a file of the shop (relative path). */
  edit(file: string, from: string, to: string): Promise<void>
  /** Applies one of the shop's labelled changes (`field-rename`). */
  apply(change: string): Promise<void>
  remove(): Promise<void>
}

/** The environment of git commands in a test repository under `parent`: its own author, no repository above. */
export function gitEnv(parent: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CEILING_DIRECTORIES: parent,
    GIT_AUTHOR_NAME: 'vigil',
    GIT_AUTHOR_EMAIL: 'vigil@example.invalid',
    GIT_COMMITTER_NAME: 'vigil',
    GIT_COMMITTER_EMAIL: 'vigil@example.invalid',
  }
}

/** Resolves once `condition` holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function gitShop(): Promise<GitShop> {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'vigil-dev-shop-'))
  const root = path.join(parent, 'shop')
  await cp(SHOP, root, { recursive: true, filter: (src) => path.basename(src) !== '.vigil' })
  await symlink(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  const env = gitEnv(parent)
  const git = async (...args: string[]): Promise<string> =>
    (await run('git', args, { cwd: root, env, timeout: 30_000 })).stdout
  await git('init', '-q', '-b', 'main')
  await writeFile(path.join(root, '.git/info/exclude'), 'node_modules\n.vigil/\n')
  await git('add', '-A')
  await git('commit', '-q', '-m', 'shop')
  return {
    root,
    git,
    async edit(file, from, to) {
      const full = path.join(root, file)
      const text = await readFile(full, 'utf8')
      if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`)
      await writeFile(full, text.replace(from, to))
    },
    async apply(change) {
      await git('apply', path.join(root, 'changes', `${change}.patch`))
    },
    remove: () => rm(parent, { recursive: true, force: true }),
  }
}
