/**
 * What a warm session restarts, on a git repository of two real service processes (`a` with a `prepare:`
 * step, `b` without): a change to the candidate's files restarts the candidate's service and runs its
 * prepare step again, never the baseline; a dead process is started again without its prepare step; a
 * dead baseline service is restarted alone; a moved base moves the baseline's worktree and restarts only
 * the baseline services whose files differ, prepared again, never the candidate; and each verdict says why.
 * With restarts on save, b is restarted on its save and a (built) is left to the iteration.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DevSession } from '../../../engine/dev/session.js'
import { gitEnv, waitFor } from './warm-shop.js'

const run = promisify(execFile)

const SERVER = `import http from 'node:http'
const version = 'v1'
http.createServer((req, res) => res.end(req.url === '/health' ? 'ok' : version)).listen(Number(process.env.PORT), process.env.HOST)
`
/** The prepare step: one line per run in PREP_LOG, naming the side it ran for. */
const BUILD = `import { appendFileSync } from 'node:fs'
appendFileSync(process.env.PREP_LOG, process.env.VIGIL_SIDE + '\\n')
`

let parent: string
let root: string
let prepLog: string
let session: DevSession

function gitIn(dir: string) {
  return async (...args: string[]): Promise<string> =>
    (await run('git', args, { cwd: dir, env: gitEnv(parent), timeout: 30_000 })).stdout.trim()
}
const git = (...args: string[]): Promise<string> => gitIn(root)(...args)

/** How often the prepare step ran for each side. */
async function prepared(log = prepLog): Promise<{ candidate: number; baseline: number }> {
  const lines = (await readFile(log, 'utf8').catch(() => '')).split('\n')
  return {
    candidate: lines.filter((l) => l === 'candidate').length,
    baseline: lines.filter((l) => l === 'baseline').length,
  }
}

/** A committed repository `name` under `parent` with services `a` (built by `prepare:`) and `b`. */
async function twoServices(name: string): Promise<{ root: string; prepLog: string }> {
  const root = path.join(parent, name)
  const prepLog = path.join(parent, `${name}-prepared.log`)
  for (const service of ['a', 'b']) {
    await mkdir(path.join(root, service), { recursive: true })
    await writeFile(path.join(root, service, 'server.js'), SERVER)
  }
  await writeFile(path.join(root, 'a', 'build.js'), BUILD)
  await writeFile(path.join(root, 'README.md'), '# two services\n')
  await mkdir(path.join(root, 'plans'))
  await writeFile(
    path.join(root, 'plans', 'smoke.md'),
    '---\nname: smoke\ntitle: a answers\nselectionHint: Service a answers its root path.\n---\n\n# a answers\n\n' +
      '```contract\nservice: a\nrequest: GET /\nexpect: { status: 200 }\n```\n',
  )
  await writeFile(
    path.join(root, 'vigil.config.yaml'),
    `sandbox:
  provider: process
  default: a
  services:
    a:
      command: ${JSON.stringify([process.execPath, 'a/server.js'])}
      prepare: ${JSON.stringify([process.execPath, 'a/build.js'])}
      watch: [a/**]
      env: { PREP_LOG: ${JSON.stringify(prepLog)} }
      ready: { http: /health, timeout: 15s }
    b:
      command: ${JSON.stringify([process.execPath, 'b/server.js'])}
      watch: [b/**]
      ready: { http: /health, timeout: 15s }
`,
  )
  const git = gitIn(root)
  await git('init', '-q', '-b', 'main')
  await writeFile(path.join(root, '.git/info/exclude'), '.vigil/\n')
  await git('add', '-A')
  await git('commit', '-q', '-m', 'two services')
  return { root, prepLog }
}

beforeAll(async () => {
  parent = await mkdtemp(path.join(os.tmpdir(), 'vigil-dev-sides-'))
  ;({ root, prepLog } = await twoServices('repo'))
  session = new DevSession({ cwd: root, planNames: ['smoke'] })
}, 60_000)

afterAll(async () => {
  await session?.stop()
  await rm(parent, { recursive: true, force: true })
}, 60_000)

describe('a warm session restarts only the side that needs it', () => {
  it('prepares each side once when it starts, and nothing again when nothing changed', async () => {
    const first = await session.iterate()
    expect(first.errors).toEqual([])
    expect(first.status).toBe('pass')
    expect(first.summary.checks.total).toBe(1)
    expect(await prepared()).toEqual({ candidate: 1, baseline: 1 })
    const again = await session.iterate()
    expect(again.session).toMatchObject({ restarted: [], rebuilt: [] })
    expect(again.session?.reused).toEqual(expect.arrayContaining(['baseline', 'candidate:a', 'candidate:b']))
    expect(await prepared()).toEqual({ candidate: 1, baseline: 1 })
  }, 120_000)

  it("restarts and prepares the candidate's service when its files change, and leaves the baseline", async () => {
    const before = session.processes()
    await writeFile(path.join(root, 'a/server.js'), SERVER.replace("'v1'", "'v2'"))
    const verdict = await session.iterate()
    expect(verdict.session?.restarted).toEqual(['a'])
    expect(verdict.session?.rebuilt).toEqual([
      { part: 'candidate:a', reason: 'its prepare step ran again: a/server.js changed' },
    ])
    // The verdict's duration is the iteration's: the restart, then the checks.
    const phase = (name: string) => verdict.timings.find((t) => t.phase === name)?.durationMs ?? NaN
    expect(verdict.durationMs).toBeGreaterThanOrEqual(phase('restart:a') + phase('checks'))
    expect(await prepared()).toEqual({ candidate: 2, baseline: 1 })
    const after = session.processes()
    expect(after.baseline).toEqual(before.baseline)
    expect(after.candidate.b).toBe(before.candidate.b)
    expect(after.candidate.a).not.toBe(before.candidate.a)
  }, 120_000)

  it('starts a dead candidate process again without preparing it', async () => {
    const pid = session.processes().candidate.a!
    process.kill(-pid, 'SIGKILL')
    await waitFor(() => session.processes().candidate.a === undefined)
    const verdict = await session.iterate()
    expect(verdict.session?.restarted).toEqual(['a'])
    expect(verdict.session?.rebuilt).toEqual([])
    expect(await prepared()).toEqual({ candidate: 2, baseline: 1 })
  }, 120_000)

  it('restarts a dead baseline service alone', async () => {
    const before = session.processes()
    process.kill(-before.baseline.b!, 'SIGKILL')
    await waitFor(() => session.processes().baseline.b === undefined)
    const verdict = await session.iterate()
    expect(verdict.session?.rebuilt).toEqual([
      { part: 'baseline:b', reason: expect.stringMatching(/^baseline service b died \(pid \d+\)$/) },
    ])
    expect(verdict.session?.reused).not.toContain('baseline')
    const after = session.processes()
    expect(after.candidate).toEqual(before.candidate)
    expect(after.baseline.a).toBe(before.baseline.a)
    expect(after.baseline.b).toBeGreaterThan(0)
    expect(after.baseline.b).not.toBe(before.baseline.b)
  }, 120_000)

  it('moves the baseline with the base: only its changed services restart, prepared again', async () => {
    const before = session.processes()
    const from = await git('rev-parse', 'HEAD')
    await git('commit', '-q', '-am', 'a v2')
    const to = await git('rev-parse', 'HEAD')
    const verdict = await session.iterate()
    expect(verdict.session?.rebuilt).toEqual([
      {
        part: 'baseline:a',
        reason: `HEAD moved from ${from.slice(0, 12)} to ${to.slice(0, 12)}: a/server.js changed; its prepare step ran again`,
      },
    ])
    expect(verdict.session?.restarted).toEqual([])
    expect(verdict.identity.sides?.baseline?.source.commit).toBe(to)
    // The candidate is the working tree: its commit moved too.
    expect(verdict.identity.sides?.candidate.source).toEqual({ kind: 'working-tree', commit: to })
    // So did the run's: the session's reading of HEAD, the same for both.
    expect(verdict.identity.commit).toBe(to)
    expect(await prepared()).toEqual({ candidate: 2, baseline: 2 })
    const after = session.processes()
    expect(after.candidate).toEqual(before.candidate)
    expect(after.baseline.b).toBe(before.baseline.b)
    expect(after.baseline.a).not.toBe(before.baseline.a)
  }, 120_000)

  it('keeps every process when the base moves without touching a service', async () => {
    const before = session.processes()
    await writeFile(path.join(root, 'README.md'), '# two services, documented\n')
    await git('commit', '-q', '-am', 'docs')
    const verdict = await session.iterate()
    // (The README is not a service's: the candidate's catalog is read again, nothing restarts.)
    expect(verdict.session?.rebuilt).toEqual(
      expect.arrayContaining([
        {
          part: 'baseline:worktree',
          reason: expect.stringMatching(/^HEAD moved from \w{12} to \w{12}; no service's files changed$/),
        },
      ]),
    )
    expect(verdict.session?.restarted).toEqual([])
    expect(verdict.session?.reused).toEqual(expect.arrayContaining(['baseline']))
    expect(session.processes()).toEqual(before)
    expect(await prepared()).toEqual({ candidate: 2, baseline: 2 })
  }, 120_000)
})

describe('restarts on save leave a service with a build step to the iteration', () => {
  it('b is restarted on its save; a, whose build writes among its files, by the next iteration, once; b at most 3 times', async () => {
    const repo = await twoServices('saves')
    const lines: string[] = []
    const saving = new DevSession({
      cwd: repo.root,
      planNames: ['smoke'],
      restartOnSave: true,
      log: (line) => lines.push(line),
    })
    try {
      expect((await saving.iterate()).status).toBe('pass')
      const onSave = () => lines.filter((l) => / on save$/.test(l))
      await writeFile(path.join(repo.root, 'b/server.js'), SERVER.replace("'v1'", "'v2'"))
      await waitFor(() => lines.some((l) => /service b: restarted on /.test(l)))
      expect(onSave()).toEqual(['candidate sandbox, service b: restarting (b/server.js changed) on save'])

      await writeFile(path.join(repo.root, 'a/server.js'), SERVER.replace("'v1'", "'v2'"))
      // Given time to act on the save, nothing restarts a: its build would write among its files again.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      expect(onSave()).toHaveLength(1)
      const verdict = await saving.iterate()
      expect(verdict.session).toMatchObject({ restarted: ['a', 'b'], restartedOnSave: ['b'] })
      expect(verdict.session?.rebuilt).toEqual([
        { part: 'candidate:a', reason: 'its prepare step ran again: a/server.js changed' },
      ])
      expect(await prepared(repo.prepLog)).toEqual({ candidate: 2, baseline: 1 })
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      expect(onSave()).toHaveLength(1)

      // A service writing among its own files as it runs (a log) is restarted on save 3 times, then left.
      const leftAlone = () => lines.filter((l) => /service b: changed again after 3 restarts on save/.test(l))
      for (let i = 0; i < 20 && leftAlone().length === 0; i++) {
        await writeFile(path.join(repo.root, 'b/out.log'), `line ${i}\n`, { flag: 'a' })
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      // Writes after that restart nothing more.
      for (let i = 0; i < 2; i++) {
        await writeFile(path.join(repo.root, 'b/out.log'), 'more\n', { flag: 'a' })
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      expect(onSave().slice(1)).toEqual(
        Array(3).fill('candidate sandbox, service b: restarting (b/out.log changed) on save'),
      )
      expect(leftAlone()).toHaveLength(1)
      const next = await saving.iterate()
      expect(next.session?.restarted).toEqual(['b'])
      expect(next.session?.restartedOnSave).toBeUndefined()
    } finally {
      await saving.stop()
    }
  }, 120_000)
})
