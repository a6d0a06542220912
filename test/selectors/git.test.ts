import { execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DiffError, diffAgainstBase, gitLocation, parseDiff, pathMapper } from '../../selectors/index.js'

let repo: string
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' })
const write = (file: string, content: string | Buffer) => {
  mkdirSync(path.dirname(path.join(repo, file)), { recursive: true })
  writeFileSync(path.join(repo, file), content)
}

beforeAll(() => {
  repo = mkdtempSync(path.join(os.tmpdir(), 'vigil-select-git-'))
  git('init', '-q', '-b', 'main')
  git('config', 'user.email', 'test@example.com')
  git('config', 'user.name', 'test')
  write('shop/orders/server.js', 'const total = 1\n')
  write('shop/catalog/server.js', 'const products = []\n')
  write('shop/.gitignore', 'ignored.log\n')
  write('engine/run.ts', 'export {}\n')
  git('add', '.')
  git('commit', '-q', '-m', 'base')
  git('checkout', '-q', '-b', 'feature')
  write('shop/orders/server.js', 'const total_cents = 1\n') // committed on the branch
  git('commit', '-q', '-am', 'rename field')
  git('mv', 'shop/catalog/server.js', 'shop/catalog/main.js') // staged rename
  write('engine/run.ts', 'export const x = 1\n') // unstaged, outside the config folder
  write('shop/payments/new.js', 'export const pay = 1\n') // untracked
  write('shop/payments/blob.bin', Buffer.from([0, 1, 2, 3]))
  write('shop/ignored.log', 'noise\n') // ignored
})

afterAll(() => rmSync(repo, { recursive: true, force: true }))

describe('diffAgainstBase', () => {
  it('diffs the working tree against the merge base, with untracked files and renames', async () => {
    const base = await diffAgainstBase('main', path.join(repo, 'shop'))
    expect(base.prefix).toBe('shop/')
    expect(base.mergeBase).toBe(git('rev-parse', 'main').trim())
    expect(base.untracked).toEqual(['shop/payments/blob.bin', 'shop/payments/new.js'])
    const diff = parseDiff(base.text, { mapPath: pathMapper(base.prefix, 'repo') })
    expect(diff.files.map((f) => [f.path, f.status, f.oldPath, f.binary, f.outside])).toEqual([
      ['../engine/run.ts', 'modified', undefined, false, true],
      ['catalog/main.js', 'renamed', 'catalog/server.js', false, undefined],
      ['orders/server.js', 'modified', undefined, false, undefined],
      ['payments/blob.bin', 'added', undefined, true, undefined],
      ['payments/new.js', 'added', undefined, false, undefined],
    ])
    expect(diff.files.find((f) => f.path === 'payments/new.js')?.hunks[0]?.lines).toEqual([
      '+export const pay = 1',
    ])
    expect(diff.warnings).toEqual([])
  })

  it("takes the folder's place in its repository from a caller that knows it, and gives the same diff", async () => {
    const dir = path.join(repo, 'shop')
    const found = await diffAgainstBase('main', dir)
    expect(found.root).toBe((await gitLocation(dir))!.root)
    const given = await diffAgainstBase('main', dir, { root: found.root, prefix: found.prefix })
    expect(given).toEqual(found)
  })

  it('reports an unknown ref and a folder outside git as DiffError', async () => {
    await expect(diffAgainstBase('no-such-ref', repo)).rejects.toThrow(DiffError)
    await expect(diffAgainstBase('no-such-ref', repo)).rejects.toThrow(/git merge-base no-such-ref HEAD/)
    const outside = mkdtempSync(path.join(os.tmpdir(), 'vigil-select-nogit-'))
    try {
      expect(await gitLocation(outside)).toBeUndefined()
      await expect(diffAgainstBase('main', outside)).rejects.toThrow(/not inside a git repository/)
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })
})
