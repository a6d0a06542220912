/** The default base of `vigil ci` in real git repositories, and the artefacts left out of its diff. */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultBase, mergeBase } from '../../engine/ci/base.js'
import { resolveChange } from '../../engine/ci/change.js'
import { withoutPaths } from '../../selectors/index.js'

let work: string
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()

function repository(name: string, branch: string): string {
  const dir = path.join(work, name)
  mkdirSync(dir, { recursive: true })
  git(dir, 'init', '-q', '-b', branch)
  git(dir, 'config', 'user.email', 't@example.com')
  git(dir, 'config', 'user.name', 't')
  writeFileSync(path.join(dir, 'a.txt'), 'a\n')
  git(dir, 'add', '.')
  git(dir, 'commit', '-q', '-m', 'first')
  return dir
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'vigil-ci-base-'))
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('defaultBase', () => {
  it('falls back to main, then master, and says so', async () => {
    expect(await defaultBase(repository('main-repo', 'main'), {})).toEqual({
      ref: 'main',
      reason: 'fallback: no origin/HEAD',
    })
    expect(await defaultBase(repository('master-repo', 'master'), {})).toMatchObject({ ref: 'master' })
  })

  it("prefers origin/HEAD's branch, and GITHUB_BASE_REF over both", async () => {
    const upstream = repository('upstream', 'trunk')
    git(upstream, 'branch', 'release')
    const clone = path.join(work, 'clone')
    git(work, 'clone', '-q', upstream, clone)
    git(clone, 'checkout', '-q', '-b', 'feature')
    expect(await defaultBase(clone, {})).toEqual({ ref: 'origin/trunk', reason: 'origin/HEAD' })
    expect(await defaultBase(clone, { GITHUB_BASE_REF: 'release' })).toEqual({
      ref: 'origin/release',
      reason: 'GITHUB_BASE_REF=release',
    })
    expect(await mergeBase('origin/trunk', clone)).toBe(git(clone, 'rev-parse', 'HEAD'))
  })

  it('names every ref it tried when there is no default branch', async () => {
    const dir = repository('odd', 'develop')
    await expect(defaultBase(dir, {})).rejects.toThrow(
      /no default branch was found \(tried main, master, origin\/main, origin\/master\); pass --base REF/,
    )
    await expect(mergeBase('nope', dir)).rejects.toThrow('--base nope: no merge base with HEAD')
  })
})

describe('the change of a CI run', () => {
  it('leaves its own artefacts out of a --base diff, and keeps everything else', async () => {
    const dir = repository('artefacts', 'main')
    mkdirSync(path.join(dir, '.vigil/ci'), { recursive: true })
    writeFileSync(path.join(dir, '.vigil/ci/verdict.json'), '{}\n')
    writeFileSync(path.join(dir, 'junit.xml'), '<testsuites/>\n')
    writeFileSync(path.join(dir, 'a.txt'), 'b\n')
    const change = await resolveChange(
      { kind: 'base', ref: 'main' },
      {
        configDir: dir,
        cwd: dir,
        location: undefined,
        exclude: [path.join(dir, '.vigil/ci'), path.join(dir, 'junit.xml')],
      },
    )
    expect(change.diff.files.map((f) => f.path)).toEqual(['a.txt'])
    expect(change.runBase).toBe(git(dir, 'rev-parse', 'HEAD'))
  })

  it('withoutPaths drops whole sections only for paths at or under an excluded one', () => {
    const section = (file: string) =>
      `diff --git a/${file} b/${file}\n--- a/${file}\n+++ b/${file}\n@@ -1 +1 @@\n-a\n+b\n`
    const text = section('out/verdict.json') + section('outside.txt') + section('out2/x')
    expect(withoutPaths(text, '/repo', ['/repo/out'])).toBe(section('outside.txt') + section('out2/x'))
    expect(withoutPaths(text, '/repo', ['/elsewhere/out'])).toBe(text)
  })

  it('rejects text that is not a unified diff', async () => {
    await expect(
      resolveChange(
        { kind: 'text', text: 'hello, this is not a diff\n', file: 'x.patch' },
        {
          configDir: work,
          cwd: work,
          location: undefined,
        },
      ),
    ).rejects.toThrow('diff: not a unified diff')
  })
})
