import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { InfrastructureError } from '../../../engine/errors.js'
import { patchedSource, worktreeSource, type SourceTree } from '../../../engine/sandboxes/source.js'
import { createRepo, versionPatch } from './git-repo.js'
import { removeDir, tempDir } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

function repo(): ReturnType<typeof createRepo> {
  const r = createRepo('sandbox: { provider: url, services: { a: "http://127.0.0.1:1" } }\n')
  cleanups.push(() => removeDir(r.top))
  return r
}

function track(tree: SourceTree): SourceTree {
  cleanups.push(() => tree.cleanup())
  return tree
}

describe('worktree source (--base)', () => {
  it('checks out the ref in a temporary worktree and removes it afterwards', async () => {
    const r = repo()
    writeFileSync(path.join(r.app, 'version.txt'), 'v2 (uncommitted)\n')
    const tree = track(await worktreeSource(r.app, 'HEAD'))
    expect(path.basename(path.dirname(path.dirname(tree.root)))).toMatch(/^vigil-base-/)
    expect(tree.root.endsWith(`${path.sep}app`)).toBe(true)
    expect(readFileSync(path.join(tree.root, 'version.txt'), 'utf8')).toBe('v1\n')
    expect(r.git('worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(2)

    await tree.cleanup()
    await tree.cleanup()
    expect(existsSync(tree.tempDir)).toBe(false)
    expect(r.git('worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1)
  })

  it('links the working tree node_modules into the worktree', async () => {
    const r = repo()
    mkdirSync(path.join(r.app, 'node_modules', 'dep'), { recursive: true })
    const tree = track(await worktreeSource(r.app, 'HEAD'))
    expect(existsSync(path.join(tree.root, 'node_modules', 'dep'))).toBe(true)
  })

  it('says when the base ref locks other dependencies than the node_modules it is given', async () => {
    const r = repo()
    writeFileSync(path.join(r.app, 'package-lock.json'), '{"lockfileVersion":3,"packages":{"a":"1.0.0"}}\n')
    r.git('add', '.')
    r.git('commit', '-q', '-m', 'lock a@1')
    mkdirSync(path.join(r.app, 'node_modules', 'a'), { recursive: true })
    // Same lockfile: nothing to say.
    expect(track(await worktreeSource(r.app, 'HEAD')).notes).toEqual([])
    // The working tree moved to a@2; the base still locks a@1 but runs with a@2 installed.
    writeFileSync(path.join(r.app, 'package-lock.json'), '{"lockfileVersion":3,"packages":{"a":"2.0.0"}}\n')
    expect(track(await worktreeSource(r.app, 'HEAD')).notes).toEqual([
      "--base HEAD: app/package-lock.json differs from the working tree's; the baseline runs with the working tree's node_modules, so a dependency change is not in the baseline",
    ])
  })

  it('names an unknown ref', async () => {
    const r = repo()
    const error = (await worktreeSource(r.app, 'no-such-branch').catch(
      (e: unknown) => e,
    )) as InfrastructureError
    expect(error).toBeInstanceOf(InfrastructureError)
    expect(error.code).toBe('VIGIL_GIT')
    expect(error.message).toMatch(/^--base no-such-branch: not a commit in /)
  })

  it('names a folder that is not in a repository', async () => {
    const dir = tempDir()
    cleanups.push(() => removeDir(dir))
    await expect(worktreeSource(dir, 'HEAD')).rejects.toThrow(
      /^--base HEAD: .* is not inside a git repository$/,
    )
  })
})

describe('patched source (--patch)', () => {
  it('applies a patch relative to the config folder to a copy, leaving the working tree alone', async () => {
    const r = repo()
    mkdirSync(path.join(r.app, 'node_modules', 'dep'), { recursive: true })
    const patch = path.join(r.top, 'fix.patch')
    writeFileSync(patch, versionPatch('v1', 'v3'))
    const tree = track(await patchedSource(r.app, patch))
    expect(path.basename(tree.tempDir)).toMatch(/^vigil-patch-/)
    expect(readFileSync(path.join(tree.root, 'version.txt'), 'utf8')).toBe('v3\n')
    expect(readFileSync(path.join(r.app, 'version.txt'), 'utf8')).toBe('v1\n')
    expect(existsSync(path.join(tree.root, 'server.js'))).toBe(true)
    expect(existsSync(path.join(tree.root, 'node_modules', 'dep'))).toBe(true)
    await tree.cleanup()
    expect(existsSync(tree.tempDir)).toBe(false)
  })

  it('accepts a patch made at the repository root (git diff) when all its paths are inside the folder', async () => {
    const r = repo()
    writeFileSync(path.join(r.app, 'version.txt'), 'v4\n')
    const patch = path.join(r.top, 'root.patch')
    writeFileSync(patch, r.git('diff'))
    r.git('checkout', '--', '.')
    const tree = track(await patchedSource(r.app, patch))
    expect(readFileSync(path.join(tree.root, 'version.txt'), 'utf8')).toBe('v4\n')
  })

  it('reads where a root-made patch applies as git apply does: a rename has no ---/+++ lines', async () => {
    const r = repo()
    r.git('mv', 'app/version.txt', 'app/release.txt')
    const patch = path.join(r.top, 'rename.patch')
    writeFileSync(patch, r.git('diff', '--cached', '-M'))
    r.git('reset', '-q', '--hard')
    expect(readFileSync(patch, 'utf8')).not.toMatch(/^\+\+\+ /m)
    const tree = track(await patchedSource(r.app, patch))
    expect(readFileSync(path.join(tree.root, 'release.txt'), 'utf8')).toBe('v1\n')
    expect(existsSync(path.join(tree.root, 'version.txt'))).toBe(false)
  })

  it('explains a patch that does not apply, with git’s message, and leaves no copy behind', async () => {
    const r = repo()
    const patch = path.join(r.top, 'stale.patch')
    writeFileSync(patch, versionPatch('v0', 'v9'))
    const error = (await patchedSource(r.app, patch).catch((e: unknown) => e)) as InfrastructureError
    expect(error).toBeInstanceOf(InfrastructureError)
    expect(error.code).toBe('VIGIL_PATCH')
    expect(error.message).toMatch(
      /--patch .*stale\.patch: does not apply to .*: error: patch failed: version\.txt:1/,
    )
  })

  it('names a patch file that cannot be read', async () => {
    const r = repo()
    await expect(patchedSource(r.app, path.join(r.top, 'missing.patch'))).rejects.toThrow(
      /--patch .*missing\.patch: cannot read it/,
    )
  })
})
