import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { git, gitLocation, gitMessage, gitOutput, gitSync } from '../../plans/git.js'

let repo: string
let outside: string

beforeAll(async () => {
  repo = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'vigil-git-')))
  outside = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'vigil-no-git-')))
  mkdirSync(path.join(repo, 'app', 'plans'), { recursive: true })
  expect((await git(['init', '-q', '-b', 'main'], { cwd: repo })).code).toBe(0)
})

afterAll(() => {
  rmSync(repo, { recursive: true, force: true })
  rmSync(outside, { recursive: true, force: true })
})

describe('the git wrapper', () => {
  it("returns git's output and exit code, and never throws on a failure", async () => {
    const ok = await git(['rev-parse', '--is-inside-work-tree'], { cwd: repo })
    expect(ok).toEqual({ code: 0, stdout: 'true\n', stderr: '' })
    const failed = await git(['rev-parse', '--verify', '--quiet', 'no-such-ref'], { cwd: repo })
    expect(failed.code).toBe(1)
    expect(gitMessage(failed)).toBe('git exited with code 1')
    const unknown = await git(['no-such-command'], { cwd: repo })
    expect(unknown.code).not.toBe(0)
    expect(gitMessage(unknown)).toMatch(/no-such-command/)
  })

  it('says 127 when git cannot start (a folder that does not exist)', async () => {
    const result = await git(['status'], { cwd: path.join(outside, 'gone') })
    expect(result.code).toBe(127)
    expect(gitMessage(result)).toMatch(/ENOENT/)
    expect(gitSync(['status'], { cwd: path.join(outside, 'gone') }).code).toBe(127)
  })

  it('ends git after timeoutMs, with 124', async () => {
    // `hash-object --stdin` waits for its input, which never ends: only the timeout stops it.
    const result = await git(['hash-object', '--stdin'], { cwd: repo, timeoutMs: 200 })
    expect(result.code).toBe(124)
  })

  it('passes the environment it is given', async () => {
    const env = { ...process.env, GIT_DIR: path.join(outside, 'not-a-repo') }
    expect((await git(['rev-parse', '--git-dir'], { cwd: repo, env })).code).not.toBe(0)
    expect(await gitOutput(['rev-parse', '--git-dir'], { cwd: repo })).toBe('.git')
  })

  it('runs synchronously for exit hooks', () => {
    expect(gitSync(['rev-parse', '--is-inside-work-tree'], { cwd: repo })).toMatchObject({
      code: 0,
      stdout: 'true\n',
    })
  })

  it('gives undefined instead of an output when git fails', async () => {
    expect(await gitOutput(['rev-parse', 'HEAD'], { cwd: repo })).toBeUndefined() // no commit yet
    expect(await gitOutput(['rev-parse', 'HEAD'], { cwd: outside })).toBeUndefined()
  })

  it('locates a folder in its repository, and nothing outside one', async () => {
    expect(await gitLocation(path.join(repo, 'app', 'plans'))).toEqual({ root: repo, prefix: 'app/plans/' })
    expect(await gitLocation(repo)).toEqual({ root: repo, prefix: '' })
    expect(await gitLocation(outside)).toBeUndefined()
  })
})
