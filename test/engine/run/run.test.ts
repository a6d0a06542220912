/**
 * The whole run path against the sample shop: real config, plans, process sandboxes and checks.
 * Patches are run with the e2e plan only (the load plan's timings are not what these tests judge).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { runValidation, type RunReporter } from '../../../engine/run/run.js'
import type { CheckResult, Verdict } from '../../../engine/verdict.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const config = 'samples/shop/vigil.config.yaml'
const tmp: string[] = []
afterAll(async () => {
  for (const dir of tmp) await rm(dir, { recursive: true, force: true })
})

const run = (patch?: string, extra: Parameters<typeof runValidation>[0] = {}) =>
  runValidation({
    configPath: config,
    cwd: root,
    patch: patch && `samples/shop/changes/${patch}.patch`,
    planNames: ['checkout-flow'],
    baseline: false,
    ...extra,
  })

const errorsOf = (v: Verdict) =>
  v.plans
    .flatMap((p) => p.checks)
    .flatMap((c) => (c.state === 'failed' ? c.findings.filter((f) => f.severity === 'error') : []))

describe('runValidation on the sample shop', () => {
  it('passes the clean shop, recording identity, selection, timings and reporter events', async () => {
    const events: string[] = []
    const reporter: RunReporter = {
      onRunStart: (info) =>
        void events.push(
          `start ${info.plans.map((p) => p.name).join(',')} ${info.sandboxes.map((s) => s.name).join(',')}`,
        ),
      onCheckEnd: (r: CheckResult) => void events.push(`end ${r.plan}/${r.check} ${r.state}`),
      onRunEnd: (v) => void events.push(`verdict ${v.status}`),
    }
    const verdict = await run(undefined, { reporter, requester: 'qa-bot', seed: 7, baseline: true })
    expect(errorsOf(verdict)).toEqual([])
    expect(verdict).toMatchObject({
      status: 'pass',
      exitCode: 0,
      errors: [],
      identity: { requester: 'qa-bot', seed: 7 },
    })
    expect(verdict.identity.runId).toMatch(/^[0-9a-f-]{36}$/)
    expect(verdict.identity.commit).toMatch(/^[0-9a-f]{40}$/)
    expect(verdict.selection).toEqual({
      selector: 'manual',
      plans: [{ name: 'checkout-flow', source: 'manual', reason: 'named with --plan' }],
    })
    expect(verdict.timings.map((t) => t.phase)).toEqual(
      expect.arrayContaining(['plans', 'sandbox:candidate', 'sandbox:baseline', 'plan:checkout-flow']),
    )
    expect(events).toEqual([
      'start checkout-flow candidate,baseline',
      'end checkout-flow/Checkout passed',
      'verdict pass',
    ])
  })

  it('fails env-var-rename, naming the failing step, its request and a curl line', async () => {
    const verdict = await run('env-var-rename')
    expect(verdict).toMatchObject({
      status: 'fail',
      exitCode: 1,
      identity: { patch: 'samples/shop/changes/env-var-rename.patch' },
    })
    const [finding] = errorsOf(verdict)
    expect(finding).toMatchObject({ step: 'alice creates an order', messageId: 'status', expected: 201 })
    expect(finding!.message).toMatch(
      /^Step "alice creates an order": POST \/orders expected status 201, got \d+\.$/,
    )
    expect(finding!.evidence?.reproduce).toMatch(
      /^curl -sS -i -X POST http:\/\/127\.0\.0\.1:\d+\/orders -H 'authorization: Bearer \[REDACTED\]'/,
    )
    expect(JSON.stringify(verdict)).not.toContain('alice-token')
  })

  it('samples the copies of orders its fault checks start, each named for its check, beside the services', async () => {
    const verdict = await run(undefined, { planNames: ['orders-faults'], baseline: true })
    expect(errorsOf(verdict)).toEqual([])
    const services = verdict.resources!.services
    const checks = verdict.plans.flatMap((p) => p.checks.map((c) => c.check))
    expect(checks).toHaveLength(3)
    const copies = services.filter((s) => s.copy)
    expect(copies.map((s) => `${s.side} ${s.service} ${s.copy!.plan} › ${s.copy!.check}`).sort()).toEqual(
      checks
        .flatMap((c) => [`baseline orders orders-faults › ${c}`, `candidate orders orders-faults › ${c}`])
        .sort(),
    )
    for (const side of ['candidate', 'baseline']) {
      const shared = services.find((s) => s.side === side && s.service === 'orders' && !s.copy)!
      expect(shared.samples.length).toBeGreaterThan(0)
      for (const copy of copies.filter((s) => s.side === side)) {
        expect(copy.peak.rss).toBeGreaterThan(10e6)
        // Sampled while it lived: it started after the checks did and ended before they all had.
        expect(copy.samples[0]!.atMs).toBeGreaterThan(shared.samples[0]!.atMs)
        expect(copy.samples.at(-1)!.atMs).toBeLessThan(shared.samples.at(-1)!.atMs)
      }
    }
  })

  it.each(['additive-field', 'docs-only'])('passes %s', async (change) => {
    const verdict = await run(change)
    expect(errorsOf(verdict)).toEqual([])
    expect(verdict.status).toBe('pass')
  })

  it('turns a broken plan into a plan error (exit 2) while the good plans still run', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-run-'))
    tmp.push(dir)
    await writeFile(
      path.join(dir, 'vigil.config.yaml'),
      `plans: [plans]\nsandbox:\n  provider: url\n  services:\n    api: http://127.0.0.1:1\n`,
    )
    const { mkdir } = await import('node:fs/promises')
    await mkdir(path.join(dir, 'plans'))
    const plan = (name: string, body: string) =>
      `---\nname: ${name}\ntitle: ${name}\nselectionHint: a test plan for the run path tests\n---\n\n\`\`\`e2e\n${body}\n\`\`\`\n`
    await writeFile(path.join(dir, 'plans', 'bad.md'), plan('bad', 'steps:\n  - name: x\n    reqest: GET /'))
    await writeFile(
      path.join(dir, 'plans', 'down.md'),
      plan('down', 'steps:\n  - name: ping\n    request: GET /health'),
    )
    const verdict = await runValidation({ configPath: 'vigil.config.yaml', cwd: dir })
    expect(verdict).toMatchObject({ status: 'error', exitCode: 2 })
    expect(verdict.errors[0]).toMatchObject({ code: 'VIGIL_PLAN', location: { file: 'plans/bad.md' } })
    // The location is its own field; the message names the plan once, without repeating it.
    expect(verdict.errors[0]!.message).toMatch(/^plan bad: e2e: /)
    expect(verdict.errors[0]!.location).toMatchObject({
      line: expect.any(Number),
      column: expect.any(Number),
    })
    // The good plan ran: its service is down, which is a failed step, not an error.
    expect(verdict.plans.map((p) => [p.name, p.state])).toEqual([['down', 'failed']])
    expect(errorsOf(verdict)[0]).toMatchObject({ messageId: 'network', step: 'ping' })
  })

  it('reports a sandbox that cannot start as an infrastructure error (exit 3) with its log tail', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-run-'))
    tmp.push(dir)
    await writeFile(
      path.join(dir, 'vigil.config.yaml'),
      [
        'sandbox:',
        '  provider: process',
        '  services:',
        '    api:',
        `      command: [${JSON.stringify(process.execPath)}, -e, "console.log('starting up'); process.exit(4)"]`,
        '      ready: { http: /health, timeout: 5s }',
      ].join('\n'),
    )
    const { mkdir } = await import('node:fs/promises')
    await mkdir(path.join(dir, 'plans'))
    await writeFile(
      path.join(dir, 'plans', 'p.md'),
      '---\nname: p\ntitle: p\nselectionHint: a test plan for the run path tests\n---\n\n```e2e\nsteps:\n  - name: ping\n    request: GET /health\n```\n',
    )
    const verdict = await runValidation({ configPath: 'vigil.config.yaml', cwd: dir, baseline: false })
    expect(verdict).toMatchObject({ status: 'error', exitCode: 3, plans: [] })
    expect(verdict.errors[0]!.message).toMatch(/api/)
    expect(verdict.errors[0]!.logTail?.join('\n')).toContain('starting up')
  })

  it('reports an unknown --plan name with a suggestion', async () => {
    const verdict = await runValidation({
      configPath: config,
      cwd: root,
      planNames: ['checkout-flo'],
      baseline: false,
    })
    expect(verdict).toMatchObject({ status: 'error', exitCode: 2, plans: [] })
    expect(verdict.errors[0]!.message).toMatch(/"checkout-flo".*did you mean "checkout-flow"/)
  })

  it('refuses an executor the registry does not have, before anything starts', async () => {
    const verdict = await runValidation({ configPath: config, cwd: root, executor: 'nope', baseline: false })
    expect(verdict).toMatchObject({ status: 'error', exitCode: 2, plans: [] })
    expect(verdict.errors.map((e) => [e.code, e.message])).toEqual([
      ['VIGIL_CONFIG', 'executor "nope" is unknown; expected one of local, kubernetes'],
    ])
  })
})
