/**
 * Orphans: however vigil is stopped — SIGHUP or SIGQUIT while sandboxes start or checks run, the death
 * of the process that started it, SIGKILL — no service process, no check command, no temporary tree and
 * no git worktree survives: either vigil removes them, or (after SIGKILL) `vigil sandboxes gc` does,
 * without ever touching a live run. The real CLI in child processes, real services, a real git
 * repository; each child gets its own temp folder (TMPDIR), so the run state files are the test's own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { processStartTime } from '../../../engine/processes/process-tree.js'
import { createRepo, versionPatch, type TestRepo } from './git-repo.js'
import { allPids, killAll, readPids, removeDir, survivors, tempDir } from './helpers.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const BIN = path.join(ROOT, 'bin/vigil.js')

const services = (extra = '') => `
env: [VIGIL_TEST_PID_DIR]
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
      env: { NAME: api, PID_DIR: "{{env.VIGIL_TEST_PID_DIR}}", DB_URL: "{{services.db.url}}"${extra} }
      ready: { http: /health, timeout: 60s }
`

/** A check that runs a command which records itself and then waits: "during checks" is when it has. */
const SLOW_PLAN = `---
name: slow
title: A slow check
selectionHint: A check that takes a long time to finish, for the signal tests.
---
# Slow

\`\`\`e2e
steps:
  - name: wait
    run: [node, wait.js]
    env: { PID_DIR: "{{env.VIGIL_TEST_PID_DIR}}" }
    timeout: 60s
\`\`\`
`
const WAIT_JS = `const fs = require('node:fs')
const path = require('node:path')
fs.writeFileSync(path.join(process.env.PID_DIR, 'check-' + process.pid + '.json'),
  JSON.stringify({ name: 'check', pid: process.pid, cwd: process.cwd() }))
setTimeout(() => {}, 60000)
`

let repo: TestRepo
beforeAll(() => {
  repo = createRepo(services())
  writeFileSync(path.join(repo.app, 'start.yaml'), services(', NEVER_READY: 1'))
  mkdirSync(path.join(repo.app, 'plans'))
  writeFileSync(path.join(repo.app, 'plans/slow.md'), SLOW_PLAN)
  writeFileSync(path.join(repo.app, 'plans/wait.js'), WAIT_JS)
  repo.git('add', '.')
  repo.git('commit', '-q', '-m', 'plans')
  writeFileSync(path.join(repo.top, 'fix.patch'), versionPatch('v1', 'v2'))
})
afterAll(() => removeDir(repo.top))

interface Vigil {
  child: ChildProcess
  out: () => string
  err: () => string
  /** Resolves with the exit code (or the signal) once every holder of its pipes is gone. Bounded. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `args` (the CLI, or a wrapper around it) with its own TMPDIR and pid folder. */
function start(argv: string[], env: { tmp: string; pids: string }): Vigil {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: repo.top,
    // No kubeconfig: `sandboxes gc` does the local part only, whatever this machine has.
    env: {
      ...process.env,
      TMPDIR: env.tmp,
      HOME: env.tmp,
      KUBECONFIG: '',
      VIGIL_TEST_PID_DIR: env.pids,
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c))
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`did not finish in time\n${out}\n${err}`))
    }, 90_000)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal })
    })
  })
  closed.catch(() => {})
  return { child, out: () => out, err: () => err, closed }
}

const vigilArgs = (...args: string[]) => [process.execPath, BIN, ...args]
const RUN = ['run', '--config', 'app/vigil.config.yaml', '--base', 'HEAD', '--patch', 'fix.patch']

async function waitFor(what: string, ok: () => boolean, ms: number, vigil?: Vigil): Promise<void> {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${vigil?.out() ?? ''}\n${vigil?.err() ?? ''}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const names = (dir: string) => readPids(dir).map((r) => r.name)
const hasCheck = (dir: string) => () => names(dir).includes('check')
/** The `vigil-base-*` / `vigil-patch-*` trees in a temp folder. */
const trees = (tmp: string) => readdirSync(tmp).filter((n) => /^vigil-(base|patch)-/.test(n))
/** The state files in a temp folder. */
const states = (tmp: string) => {
  const dir = readdirSync(tmp).find((n) => n.startsWith('vigil-state-'))
  return dir ? readdirSync(path.join(tmp, dir)).filter((n) => n.endsWith('.json')) : []
}
const worktrees = () => repo.git('worktree', 'list', '--porcelain').match(/^worktree /gm)?.length ?? 0

/** Nothing left: no process of the records, no tree, no registered worktree, no state file. */
async function expectNothingLeft(tmp: string, pids: string): Promise<void> {
  expect(await survivors(allPids(readPids(pids)), 10_000)).toEqual([])
  expect(trees(tmp)).toEqual([])
  expect(worktrees()).toBe(1)
  expect(states(tmp)).toEqual([])
}

function scratch(): { tmp: string; pids: string; done: () => void } {
  const tmp = tempDir('vigil-orphans-')
  const pids = path.join(tmp, 'pids')
  mkdirSync(pids)
  return {
    tmp,
    pids,
    done: () => {
      killAll(allPids(readPids(pids)))
      removeDir(tmp)
      spawnSync('git', ['worktree', 'prune'], { cwd: repo.top })
    },
  }
}

describe.each([
  ['SIGHUP', 129],
  ['SIGQUIT', 131],
] as const)('%s', (signal, exitCode) => {
  it.each([
    ['while the sandboxes start', 'app/start.yaml', (pids: string) => () => names(pids).includes('api')],
    ['while checks run', 'app/vigil.config.yaml', hasCheck],
  ])(
    `%s: exits ${exitCode} and leaves nothing behind`,
    async (_phase, config, ready) => {
      const env = scratch()
      try {
        const args = [...RUN]
        args[2] = config
        const vigil = start(vigilArgs(...args), env)
        await waitFor('the phase', ready(env.pids), 60_000, vigil)
        expect(trees(env.tmp)).toHaveLength(2)
        expect(worktrees()).toBe(2)
        vigil.child.kill(signal)
        const { code } = await vigil.closed
        expect(code, vigil.err()).toBe(exitCode)
        await expectNothingLeft(env.tmp, env.pids)
      } finally {
        env.done()
      }
    },
    120_000,
  )
})

describe('SIGHUP after the terminal went away', () => {
  it('output that cannot be written does not stop the cleanup: exits 129, leaves nothing', async () => {
    const env = scratch()
    try {
      const vigil = start(vigilArgs(...RUN), env)
      await waitFor('the check to run', hasCheck(env.pids), 60_000, vigil)
      // Like a closed terminal: every later write of vigil fails (EPIPE).
      vigil.child.stdout!.destroy()
      vigil.child.stderr!.destroy()
      vigil.child.kill('SIGHUP')
      expect((await vigil.closed).code).toBe(129)
      await expectNothingLeft(env.tmp, env.pids)
    } finally {
      env.done()
    }
  }, 120_000)
})

describe('the process that started vigil dies', () => {
  it('a killed wrapper: vigil notices within seconds, exits as on SIGTERM, and cleans up', async () => {
    const env = scratch()
    try {
      // `; true` keeps the shell from exec'ing vigil: it stays vigil's parent, like `npx` or a CI step.
      const command = [process.execPath, BIN, ...RUN].map((a) => `'${a}'`).join(' ')
      const wrapper = start(['sh', '-c', `${command}; true`], env)
      await waitFor('the check to run', hasCheck(env.pids), 60_000, wrapper)
      const killedAt = Date.now()
      wrapper.child.kill('SIGKILL')
      await waitFor(
        'vigil to notice',
        () => wrapper.err().includes('is gone; stopping as on SIGTERM'),
        20_000,
        wrapper,
      )
      const noticedMs = Date.now() - killedAt
      // The pipes close when vigil, their last holder, exits.
      await wrapper.closed
      // vigil checks its parent every 250 ms. The bound has room for a loaded machine's scheduling and
      // still fails a check that stopped polling (it would never notice) or polled rarely.
      expect(noticedMs).toBeLessThan(10_000)
      await expectNothingLeft(env.tmp, env.pids)
    } finally {
      env.done()
    }
  }, 120_000)
})

describe('vigil sandboxes gc', () => {
  it('after SIGKILL of vigil mid-run: the next run names the leftovers; gc --dry-run lists them; gc removes them all', async () => {
    const env = scratch()
    try {
      const vigil = start(vigilArgs(...RUN), env)
      await waitFor('the check to run', hasCheck(env.pids), 60_000, vigil)
      vigil.child.kill('SIGKILL')
      await vigil.closed.catch(() => {})
      // Everything is still there: services, their grandchildren, the check's command, both trees.
      const records = readPids(env.pids)
      expect(records.map((r) => r.name).sort()).toEqual(['api', 'api', 'check', 'db', 'db'])
      expect(await survivors(allPids(records), 300)).toHaveLength(7)
      expect(trees(env.tmp)).toHaveLength(2)
      expect(worktrees()).toBe(2)
      // A service whose leader died while its grandchild lives on: gc still stops the group.
      const db = records.find((r) => r.name === 'db')!
      process.kill(db.pid, 'SIGKILL')
      await survivors([db.pid], 5_000)

      const next = start(
        vigilArgs('sandbox', '--config', 'app/vigil.config.yaml', '--no-baseline', '--check'),
        env,
      )
      expect((await next.closed).code, next.err()).toBe(0)
      expect(next.err()).toMatch(
        /an earlier vigil \(pid \d+\) ended without cleaning up and left 5 process groups, 1 git worktree, 1 temporary tree behind; `vigil sandboxes gc` removes them/,
      )

      const dry = start(vigilArgs('sandboxes', 'gc', '--dry-run', '--json'), env)
      expect((await dry.closed).code, dry.err()).toBe(0)
      const planned = JSON.parse(dry.out()) as {
        runs: Array<{ owner: { alive: boolean }; items: Array<{ kind: string; action: string }> }>
        kubernetes?: { skipped?: string }
      }
      expect(planned.kubernetes?.skipped).toContain('no kubeconfig')
      const dead = planned.runs.filter((r) => !r.owner.alive)
      expect(dead.flatMap((r) => r.items.map((i) => `${i.kind} ${i.action}`)).sort()).toEqual([
        'process would-remove',
        'process would-remove',
        'process would-remove',
        'process would-remove',
        'process would-remove',
        'tree would-remove',
        'worktree would-remove',
      ])
      expect(await survivors(allPids(records), 300)).toHaveLength(6)

      const gc = start(vigilArgs('sandboxes', 'gc'), env)
      expect((await gc.closed).code, gc.err()).toBe(0)
      expect(gc.out()).toMatch(/process\s+candidate\/api \(pgid \d+\)\s+removed/)
      expect(gc.out()).toMatch(/worktree\s+\S+vigil-base-\S+\s+removed/)
      await expectNothingLeft(env.tmp, env.pids)

      const again = start(vigilArgs('sandboxes', 'gc'), env)
      expect((await again.closed).code).toBe(0)
      expect(again.out()).toContain('no vigil run left anything behind')
    } finally {
      env.done()
    }
  }, 180_000)

  it('does the local part even when the named cluster cannot be used, then fails for it', async () => {
    const env = scratch()
    try {
      const gc = start(vigilArgs('sandboxes', 'gc', '--kubeconfig', path.join(env.tmp, 'missing.yaml')), env)
      expect((await gc.closed).code).toBe(2)
      expect(gc.out()).toContain('no vigil run left anything behind')
      expect(gc.err()).toMatch(/missing\.yaml: cannot be loaded/)
    } finally {
      env.done()
    }
  }, 60_000)

  it('never touches a live run', async () => {
    const env = scratch()
    try {
      const up = start(
        vigilArgs('sandbox', '--config', 'app/vigil.config.yaml', '--base', 'HEAD', '--patch', 'fix.patch'),
        env,
      )
      await waitFor('the sandboxes', () => up.err().includes('press Ctrl-C'), 60_000, up)
      const pids = allPids(readPids(env.pids))
      expect(pids).toHaveLength(6)

      const gc = start(vigilArgs('sandboxes', 'gc', '--json'), env)
      expect((await gc.closed).code, gc.err()).toBe(0)
      const report = JSON.parse(gc.out()) as {
        runs: Array<{ owner: { alive: boolean }; items: Array<{ action: string }> }>
      }
      expect(report.runs).toHaveLength(1)
      expect(report.runs[0]!.owner.alive).toBe(true)
      expect(new Set(report.runs[0]!.items.map((i) => i.action))).toEqual(new Set(['live']))
      expect(report.runs[0]!.items).toHaveLength(6)
      expect(await survivors(pids, 300)).toHaveLength(6)
      expect(trees(env.tmp)).toHaveLength(2)
      expect(worktrees()).toBe(2)

      up.child.kill('SIGTERM')
      expect((await up.closed).code).toBe(143)
      await expectNothingLeft(env.tmp, env.pids)
    } finally {
      env.done()
    }
  }, 120_000)

  it('a reused pid is not the run: an owner pid now held by another process counts as dead, and a recorded group now held by another process is left alone', async () => {
    const env = scratch()
    // Two unrelated processes: one in vigil's position as owner, one as a "service" group leader.
    const owner = spawn('sleep', ['60'], { stdio: 'ignore' })
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore', detached: true })
    try {
      const precious = path.join(env.tmp, 'precious')
      mkdirSync(precious)
      const fakeTree = path.join(env.tmp, 'vigil-patch-fake')
      mkdirSync(fakeTree)
      const stateDir = path.join(env.tmp, `vigil-state-${process.getuid!()}`)
      mkdirSync(stateDir, { mode: 0o700 })
      const ownerStart = processStartTime(owner.pid!)!
      const strangerStart = processStartTime(stranger.pid!)!
      const state = (id: string, ownerStartTime: number) => ({
        version: 1,
        id,
        owner: { pid: owner.pid, startTime: ownerStartTime, cwd: repo.top, argv: [] },
        startedAt: new Date().toISOString(),
        processes: [
          {
            sandbox: 'candidate',
            service: 'api',
            pid: stranger.pid,
            pgid: stranger.pid,
            startTime: strangerStart - 1,
          },
        ],
        trees: [{ tempDir: precious }, { tempDir: fakeTree }],
      })
      // The owner's pid with another start time: a dead run whose pid was reused.
      writeFileSync(path.join(stateDir, 'reused.json'), JSON.stringify(state('reused', ownerStart - 1)))
      // The same pid and start time: a live run.
      writeFileSync(path.join(stateDir, 'live.json'), JSON.stringify(state('live', ownerStart)))

      const gc = start(vigilArgs('sandboxes', 'gc', '--json'), env)
      expect((await gc.closed).code, gc.err()).toBe(0)
      const report = JSON.parse(gc.out()) as {
        runs: Array<{
          id: string
          owner: { alive: boolean }
          items: Array<{ kind: string; what: string; action: string }>
        }>
      }
      const byId = Object.fromEntries(report.runs.map((r) => [r.id, r]))
      expect(byId.live!.owner.alive).toBe(true)
      expect(byId.live!.items.map((i) => i.action)).toEqual(['live', 'live', 'live'])
      expect(byId.reused!.owner.alive).toBe(false)
      expect(byId.reused!.items.map((i) => [i.kind, i.action])).toEqual([
        ['process', 'not-ours'],
        ['tree', 'unverified'],
        ['tree', 'removed'],
      ])
      // The stranger runs on, the folder outside vigil's trees stays, the state file with it.
      expect(await survivors([stranger.pid!, owner.pid!], 300)).toHaveLength(2)
      expect(existsSync(precious)).toBe(true)
      expect(existsSync(fakeTree)).toBe(false)
      expect(readdirSync(stateDir).sort()).toEqual(['live.json', 'reused.json'])
      expect(JSON.parse(readFileSync(path.join(stateDir, 'live.json'), 'utf8')).id).toBe('live')
    } finally {
      owner.kill('SIGKILL')
      stranger.kill('SIGKILL')
      env.done()
    }
  }, 60_000)
})
