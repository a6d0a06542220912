/**
 * Findings a developer or an agent can act on, through real runs of a real service: which builds were
 * compared (sources, commands, versions, prepare steps), the service's own log lines for the failing
 * request (by time, and by request id), VIGIL_SIDE, and `vigil reproduce` after the run has ended.
 */
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { runValidation } from '../../../engine/run/run.js'
import type { CheckResult, Finding, Verdict } from '../../../engine/verdict.js'
import { validateVerdict } from '../../../reporters/schema.js'
import { actProject, type ActProject } from '../../support/act-project.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const vigil = path.join(repo, 'bin/vigil.js')
const projects: ActProject[] = []
afterAll(() => {
  for (const p of projects) p.remove()
})

function project(options?: Parameters<typeof actProject>[0]): ActProject {
  const p = actProject(options)
  projects.push(p)
  return p
}

const findingsOf = (v: Verdict): Finding[] =>
  v.plans.flatMap((p) => p.checks).flatMap((c: CheckResult) => (c.state === 'skipped' ? [] : c.findings))

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [vigil, ...args],
      { cwd, timeout: 90_000, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr }),
    )
  })
}

describe('a failing request, acted on', () => {
  const p = project()
  p.setMode('bug')
  let verdict: Verdict
  let failing: Finding
  const verdictFile = () => path.join(p.root, 'verdict.json')

  it('records which builds were compared: sources, commands, prepare steps, versions', async () => {
    verdict = await runValidation({ configPath: 'vigil.config.yaml', cwd: p.root, base: 'main' })
    expect(validateVerdict(verdict)).toEqual({ valid: true, errors: [] })
    expect(verdict.status).toBe('fail')
    writeFileSync(verdictFile(), JSON.stringify(verdict))
    const { candidate, baseline } = verdict.identity.sides!
    expect(verdict.identity.config).toBe('vigil.config.yaml')
    expect(candidate.source).toEqual({
      kind: 'working-tree',
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      dirty: true,
    })
    expect(baseline!.source).toEqual({
      kind: 'ref',
      ref: 'main',
      commit: candidate.source.commit,
      overrides: ['services.api.env.API_VERSION'],
    })
    expect(candidate.services.api).toEqual({
      command: 'node server.mjs',
      cwd: 'api',
      prepare: 'node prepare.mjs',
      version: '2.0.0',
      package: 'act-api@2.0.0',
    })
    expect(baseline!.services.api).toMatchObject({ version: '1.0.0', package: 'act-api@2.0.0' })
  }, 60_000)

  it("attaches the service's own lines for the failing request: the stack trace next to the 500", () => {
    failing = findingsOf(verdict).find((f) => f.severity === 'error')!
    expect(failing).toMatchObject({ messageId: 'status', step: 'read item 1', actual: 500 })
    expect(failing.id).toMatch(/^f[0-9a-f]{12}$/)
    const logs = failing.evidence!.logs!
    expect(logs.attribution).toBe('time-window')
    const lines = logs.services.api!.join('\n')
    expect(lines).toContain("TypeError: Cannot read properties of undefined (reading 'cents')")
    expect(lines).toMatch(/at priceOf \(.*server\.mjs/)
    expect(lines).toContain('GET /items/1 500')
    // The step before it, and the fixture request, were not during this request.
    expect(lines).not.toContain('GET /fixture')
  })

  it('gives a run: step VIGIL_SIDE', () => {
    const run = findingsOf(verdict).find((f) => f.messageId === 'run-passed')!
    expect(run.evidence?.excerpt?.text).toBe('side=candidate')
  })

  it('gives the same ids to the same findings of another run', async () => {
    const again = await runValidation({ configPath: 'vigil.config.yaml', cwd: p.root, base: 'main' })
    expect(findingsOf(again).map((f) => f.id)).toEqual(findingsOf(verdict).map((f) => f.id))
  }, 60_000)

  it('vigil reproduce replays it after the run: both sides, their answers and log lines (exit 1)', async () => {
    const out = await cli(['reproduce', 'verdict.json', failing.id!], p.root)
    expect(out.stderr).not.toMatch(/unexpected error/)
    expect(out.code).toBe(1)
    expect(out.stdout).toContain(`vigil reproduce ${failing.id}: items › Read an item (e2e, plans/items.md:`)
    expect(out.stdout).toContain('baseline: main at')
    expect(out.stdout).toContain(
      'api: node server.mjs · in api · prepared by node prepare.mjs · version 1.0.0',
    )
    expect(out.stdout).toMatch(/candidate api: GET http:\/\/127\.0\.0\.1:\d+\/fixture → 200/)
    expect(out.stdout).toContain('{"side":"candidate"')
    expect(out.stdout).toContain('{"side":"baseline"')
    expect(out.stdout).toMatch(/candidate api: GET http:\/\/127\.0\.0\.1:\d+\/items\/1 → 500/)
    expect(out.stdout).toMatch(/baseline api: GET http:\/\/127\.0\.0\.1:\d+\/items\/1 → 200/)
    expect(out.stdout).toContain("TypeError: Cannot read properties of undefined (reading 'cents')")
    expect(out.stdout).toContain(`REPRODUCED: finding ${failing.id} came back on the candidate (exit 1)`)
    expect(out.stdout).toContain('warning: the working tree has uncommitted changes')
  }, 90_000)

  it('says when a fix made it go away (exit 0), and refuses an id the verdict does not have (exit 2)', async () => {
    p.setMode('ok')
    const fixed = await cli(['reproduce', 'verdict.json', failing.id!, '--json'], p.root)
    expect(fixed.code).toBe(0)
    const result = JSON.parse(fixed.stdout) as { reproduced: boolean; findings: Finding[] }
    expect(result.reproduced).toBe(false)
    expect(result.findings.filter((f) => f.severity === 'error')).toEqual([])
    const unknown = await cli(['reproduce', 'verdict.json', 'f000000000000'], p.root)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain(
      `verdict.json has no finding f000000000000; its failing findings are ${failing.id}`,
    )
  }, 90_000)
})

describe('log lines correlated by a request id header', () => {
  it("takes the lines that carry the request's id, and the stack trace written during it", async () => {
    const p = project({ config: 'logs: { requestId: x-request-id }\n' })
    p.setMode('bug')
    const verdict = await runValidation({ configPath: 'vigil.config.yaml', cwd: p.root, baseline: false })
    const failing = findingsOf(verdict).find((f) => f.severity === 'error')!
    const { window, logs } = failing.evidence!
    expect(window?.requestId).toMatch(/^vigil-[0-9a-f]{16}$/)
    expect(logs?.attribution).toBe('request-id')
    const lines = logs!.services.api!
    expect(lines.some((l) => l.includes(`rid=${window!.requestId} GET /items/1 500`))).toBe(true)
    expect(lines.some((l) => l.includes('TypeError'))).toBe(true)
    expect(lines.every((l) => !/rid=vigil-/.test(l) || l.includes(window!.requestId!))).toBe(true)
  }, 60_000)
})

describe('prepare:', () => {
  it('a failing prepare step is an infrastructure error with its output, and nothing keeps running', async () => {
    const p = project({ prepare: `"node -e \\"console.log('copying fixtures'); process.exit(3)\\""` })
    const verdict = await runValidation({ configPath: 'vigil.config.yaml', cwd: p.root, baseline: false })
    expect(verdict).toMatchObject({ status: 'error', exitCode: 3 })
    expect(verdict.errors[0]).toMatchObject({
      code: 'VIGIL_SANDBOX_PREPARE',
      message: expect.stringContaining('candidate sandbox, service api: prepare `node -e'),
      logTail: ['copying fixtures'],
    })
    expect(verdict.errors[0]!.message).toContain('exited with 3')
  }, 60_000)
})

describe("vigil reproduce on the sample shop's field-rename change", () => {
  it('replays the removed field after the run has ended, from the verdict file alone', async () => {
    const p = project()
    const file = path.join(p.root, 'shop-verdict.json')
    const config = 'samples/shop/vigil.config.yaml'
    const patch = 'samples/shop/changes/field-rename.patch'
    const run = await cli(
      ['run', '--config', config, '--patch', patch, '--plan', 'orders-contract', '-r', `json:${file}`],
      repo,
    )
    expect(run.code).toBe(1)
    const verdict = JSON.parse(readFileSync(file, 'utf8')) as Verdict
    expect(verdict.identity.sides!.candidate.source).toMatchObject({
      kind: 'patch',
      patch,
      patchSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    })
    const removed = findingsOf(verdict).find(
      (f) => f.messageId === 'field-removed' && f.step === 'createOrder (POST /orders)',
    )!
    // The run's sandboxes are gone: its curl line points at a closed port.
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(removed.evidence!.reproduce!)![1])
    await expect(connects(port)).resolves.toBe(false)

    const out = await cli(['reproduce', file, removed.id!], repo)
    expect(out.code).toBe(1)
    expect(out.stdout).toContain(
      `candidate: patch ${patch} (sha256 ${verdict.identity.sides!.candidate.source.patchSha256!.slice(0, 12)})`,
    )
    expect(out.stdout).toMatch(/candidate orders: POST http:\/\/127\.0\.0\.1:\d+\/orders → 201/)
    expect(out.stdout).toMatch(/baseline orders: POST http:\/\/127\.0\.0\.1:\d+\/orders → 201/)
    expect(out.stdout).toContain('"total_cents":3150')
    expect(out.stdout).toContain('"totalCents":3150')
    expect(out.stdout).toMatch(/orders \| \S+ stdout \S+ POST \/orders 201/)
    expect(out.stdout).toContain(`REPRODUCED: finding ${removed.id} came back on the candidate`)

    // A patch that changed since the run cannot give the same candidate: refused, nothing started.
    const moved = path.join(p.root, 'moved.patch')
    writeFileSync(moved, readFileSync(path.join(repo, patch), 'utf8').replace('total_cents', 'total_cts'))
    const edited = {
      ...verdict,
      identity: {
        ...verdict.identity,
        sides: {
          ...verdict.identity.sides!,
          candidate: {
            ...verdict.identity.sides!.candidate,
            source: { ...verdict.identity.sides!.candidate.source, patch: moved },
          },
        },
      },
    }
    writeFileSync(file, JSON.stringify(edited))
    const refused = await cli(['reproduce', file, removed.id!], repo)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('has changed since the run')
    expect(refused.stderr).not.toContain('ready on')
  }, 120_000)
})

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
