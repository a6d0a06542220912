/**
 * The must-have: however a run ends — pass, fail, error, SIGINT, SIGTERM — no service process (nor a
 * grandchild it started) survives, and no temporary tree (worktree, patched copy) is left behind.
 */
import { spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRepo, versionPatch, type TestRepo } from './git-repo.js'
import { allPids, killAll, readPids, removeDir, survivors, tempDir } from './helpers.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SCRIPT = fileURLToPath(new URL('../../fixtures/sandboxes/run-session.ts', import.meta.url))

const CONFIG = `
sandbox:
  provider: process
  default: api
  stopTimeout: 2s
  services:
    db:
      command: [node, server.js]
      env: { NAME: db, PID_DIR: "{{env.VIGIL_TEST_PID_DIR}}", GRANDCHILD: 1 }
    api:
      command: [node, server.js]
      env: { NAME: api, PID_DIR: "{{env.VIGIL_TEST_PID_DIR}}", DB_URL: "{{services.db.url}}" }
      ready: { http: /health }
`

let repo: TestRepo
beforeAll(() => {
  repo = createRepo(CONFIG)
  writeFileSync(path.join(repo.top, 'fix.patch'), versionPatch('v1', 'v2'))
})
afterAll(() => removeDir(repo.top))

interface Outcome {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the child until READY, optionally signals it, and waits (bounded) for it to end. */
function runChild(mode: string, pidDir: string, send?: NodeJS.Signals): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', SCRIPT, repo.app, send ? 'signal' : mode, path.join(repo.top, 'fix.patch')],
      { cwd: ROOT, env: { ...process.env, VIGIL_TEST_PID_DIR: pidDir }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    let signalled = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`child did not finish in time\n${stdout}\n${stderr}`))
    }, 25_000)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (send && !signalled && stdout.includes('READY')) {
        signalled = true
        child.kill(send)
      }
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** The `vigil-*` directory under the temp dir that contains `cwd`. */
function tempTreeOf(cwd: string): string {
  const relative = path.relative(os.tmpdir(), cwd)
  return path.join(os.tmpdir(), relative.split(path.sep)[0]!)
}

describe.each([
  ['pass', undefined, 0],
  ['fail', undefined, 1],
  ['error', undefined, 1],
  ['SIGINT', 'SIGINT', 130],
  ['SIGTERM', 'SIGTERM', 143],
] as const)('a run that ends by %s', (mode, signal, exitCode) => {
  it('leaves no service process and no temporary tree behind', async () => {
    const pidDir = tempDir()
    try {
      const outcome = await runChild(mode, pidDir, signal)
      expect(outcome.stdout, outcome.stderr).toContain('READY')
      expect(outcome.code, outcome.stderr).toBe(exitCode)
      if (mode === 'error') expect(outcome.stderr).toContain('a check crashed')

      // db and api, in the candidate and in the baseline; each db with a grandchild.
      const records = readPids(pidDir)
      expect(records.map((r) => r.name)).toEqual(['api', 'api', 'db', 'db'])
      const pids = allPids(records)
      expect(pids).toHaveLength(6)
      expect(await survivors(pids)).toEqual([])

      const trees = [...new Set(records.map((r) => tempTreeOf(r.cwd)))].sort()
      expect(trees.map((t) => path.basename(t).replace(/-\w+$/, ''))).toEqual(['vigil-base', 'vigil-patch'])
      for (const tree of trees) expect(existsSync(tree), tree).toBe(false)
      expect(repo.git('worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1)
    } finally {
      killAll(allPids(readPids(pidDir)))
      removeDir(pidDir)
    }
  })
})
