import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { InfrastructureError } from '../../../engine/errors.js'
import { startSandboxes, type SandboxSession } from '../../../engine/sandboxes/index.js'
import { createRepo, versionPatch } from './git-repo.js'
import { allPids, killAll, readPids, removeDir, survivors, tempDir, writeConfig } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

const CONFIG = `
secrets:
  token: { value: s3cr3t-token-value }
sandbox:
  provider: process
  services:
    api:
      command: [node, server.js]
      env: { NAME: api, FLAVOR: candidate, PID_DIR: "{{env.VIGIL_TEST_PID_DIR}}" }
      ready: { http: /health, timeout: 10s }
baseline:
  services:
    api:
      env: { FLAVOR: baseline }
`

async function json(url: string): Promise<unknown> {
  return (await fetch(url, { signal: AbortSignal.timeout(5_000) })).json()
}

function pidDir(): string {
  const dir = tempDir()
  process.env.VIGIL_TEST_PID_DIR = dir
  cleanups.push(() => {
    killAll(allPids(readPids(dir)))
    removeDir(dir)
  })
  return dir
}

async function start(options: Parameters<typeof startSandboxes>[0]): Promise<SandboxSession> {
  const session = await startSandboxes(options)
  cleanups.push(() => session.stop())
  return session
}

describe('startSandboxes', () => {
  it('runs the candidate from a patched copy and the baseline from a worktree of --base, then removes both', async () => {
    const r = createRepo(CONFIG)
    cleanups.push(() => removeDir(r.top))
    const pids = pidDir()
    writeFileSync(path.join(r.top, 'fix.patch'), versionPatch('v1', 'v2'))
    const loaded = { file: path.join(r.app, 'vigil.config.yaml'), dir: r.app, config: {} }
    loaded.config = (await import('yaml')).parse(readFileSync(loaded.file, 'utf8'))
    const session = await start({
      loaded,
      base: 'HEAD',
      patch: 'fix.patch',
      cwd: r.top,
      signal: new AbortController().signal,
      log: () => {},
    })
    const { candidate, baseline } = session
    expect(baseline).toBeDefined()
    expect(candidate.url('api')).not.toBe(baseline!.url('api'))
    const candidateCwd = (await json(`${candidate.url()}/cwd`)) as string
    const baselineCwd = (await json(`${baseline!.url()}/cwd`)) as string
    expect(readFileSync(path.join(candidateCwd, 'version.txt'), 'utf8')).toBe('v2\n')
    expect(readFileSync(path.join(baselineCwd, 'version.txt'), 'utf8')).toBe('v1\n')
    expect(path.basename(path.dirname(candidateCwd))).toMatch(/^vigil-patch-/)
    // The baseline section is merged over the sandbox section for the baseline only.
    expect(await json(`${candidate.url()}/env/FLAVOR`)).toBe('candidate')
    expect(await json(`${baseline!.url()}/env/FLAVOR`)).toBe('baseline')
    expect(session.timings.map((t) => t.phase).sort()).toEqual([
      'sandbox:baseline',
      'sandbox:candidate',
      'source:base',
      'source:patch',
    ])

    const started = allPids(readPids(pids))
    expect(started).toHaveLength(2)
    await session.stop()
    expect(await survivors(started)).toEqual([])
    expect(session.timings.at(-1)!.phase).toBe('sandbox:stop')
    for (const cwd of [candidateCwd, baselineCwd]) {
      expect(() => readFileSync(path.join(cwd, 'version.txt'))).toThrow()
    }
    expect(r.git('worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1)
  })

  it('runs a second instance of the working tree as the baseline when there is no --base', async () => {
    const dir = tempDir()
    cleanups.push(() => removeDir(dir))
    pidDir()
    writeFileSync(
      path.join(dir, 'server.js'),
      readFileSync(new URL('../../fixtures/sandboxes/server.js', import.meta.url)),
    )
    const session = await start({
      loaded: writeConfig(dir, CONFIG),
      signal: new AbortController().signal,
      log: () => {},
    })
    expect(await json(`${session.candidate.url()}/cwd`)).toBe(await json(`${session.baseline!.url()}/cwd`))
    expect(session.candidate.url()).not.toBe(session.baseline!.url())
  })

  it('stops the started sandbox and redacts secrets when the other one fails', async () => {
    const dir = tempDir()
    cleanups.push(() => removeDir(dir))
    const pids = pidDir()
    writeFileSync(
      path.join(dir, 'server.js'),
      readFileSync(new URL('../../fixtures/sandboxes/server.js', import.meta.url)),
    )
    // The baseline crashes and prints the secret in its arguments; the candidate starts fine.
    const config = CONFIG.replace(
      '      env: { FLAVOR: baseline }',
      '      command: [node, server.js, s3cr3t-token-value]\n      env: { FLAVOR: baseline, CRASH: 1 }',
    )
    const error = (await start({
      loaded: writeConfig(dir, config),
      signal: new AbortController().signal,
      log: () => {},
    }).catch((e: unknown) => e)) as InfrastructureError
    expect(error).toBeInstanceOf(InfrastructureError)
    expect(error.message).toBe('baseline sandbox, service api: exited with code 3 before it was ready')
    const tail = error.logTail.join('\n')
    expect(tail).toContain('["[REDACTED]"]')
    expect(tail).not.toContain('s3cr3t-token-value')
    expect(await survivors(allPids(readPids(pids)))).toEqual([])
  })

  it('stops everything when the run is cancelled while sandboxes start', async () => {
    const dir = tempDir()
    cleanups.push(() => removeDir(dir))
    const pids = pidDir()
    writeFileSync(
      path.join(dir, 'server.js'),
      readFileSync(new URL('../../fixtures/sandboxes/server.js', import.meta.url)),
    )
    const controller = new AbortController()
    const config = CONFIG.replace('FLAVOR: candidate,', 'FLAVOR: candidate, NEVER_READY: 1,')
    const starting = start({
      loaded: writeConfig(dir, config),
      baseline: false,
      signal: controller.signal,
      log: () => {},
    })
    setTimeout(() => controller.abort(), 500)
    const error = (await starting.catch((e: unknown) => e)) as InfrastructureError
    expect(error).toBeInstanceOf(InfrastructureError)
    expect(error.code).toBe('VIGIL_CANCELLED')
    expect(await survivors(allPids(readPids(pids)))).toEqual([])
  })
})
