/**
 * `vigil ci` end to end: the real CLI in a child process, on a temporary git repository holding the
 * sample shop, with a faulty change committed on a branch.
 */
import { execFile, execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { XMLParser } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Verdict } from '../../engine/verdict.js'
import { validateVerdict } from '../../reporters/index.js'
import { parseSelectionRecord } from '../../selectors/index.js'
import { shortenLoad } from '../support/quick-load.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const bin = path.join(root, 'bin/vigil.js')

interface Result {
  code: number
  stdout: string
  stderr: string
}

/** The CLI with a clean environment: no API key (the offline `rules` selector), no colour. */
function vigil(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NO_COLOR: '1', ...env },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

let work: string
let repo: string
let mainCommit: string
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim()

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'vigil-ci-test-'))
  repo = path.join(work, 'repo')
  // The shop lives in a sub-folder, so diff paths must be mapped to the config's folder.
  cpSync(path.join(root, 'samples/shop'), path.join(repo, 'shop'), { recursive: true })
  // The shop's bus client comes from the installed packages, as in a real project (not committed).
  symlinkSync(path.join(root, 'node_modules'), path.join(repo, 'node_modules'), 'dir')
  writeFileSync(path.join(repo, '.gitignore'), 'node_modules\n')
  shortenLoad(path.join(repo, 'shop'))
  git('init', '-q', '-b', 'main')
  git('config', 'user.email', 'ci@example.com')
  git('config', 'user.name', 'ci')
  git('add', '.')
  git('commit', '-q', '-m', 'the shop')
  mainCommit = git('rev-parse', 'HEAD')
  git('checkout', '-q', '-b', 'rename-total')
  git('apply', '--directory=shop', path.join(root, 'samples/shop/changes/field-rename.patch'))
  git('commit', '-q', '-am', 'orders: totalCents becomes total_cents')
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('vigil ci', () => {
  it('gates a committed faulty change against --base: exit 1, artefacts written, the selection by paths', async () => {
    const stepSummary = path.join(work, 'step-summary.md')
    writeFileSync(stepSummary, '# earlier step\n')
    const { code, stdout, stderr } = await vigil(
      ['ci', '--config', 'shop/vigil.config.yaml', '--base', 'main', '--junit', 'reports/vigil.xml'],
      repo,
      { GITHUB_STEP_SUMMARY: stepSummary },
    )
    expect(code, stderr).toBe(1)

    const out = path.join(repo, '.vigil/ci')
    const record = parseSelectionRecord(
      JSON.parse(readFileSync(path.join(out, 'selection.json'), 'utf8')),
      'selection.json',
    )
    expect(record.diff).toMatchObject({ source: 'base', base: 'main', mergeBase: mainCommit })
    expect(record.diff.files.map((f) => f.path)).toEqual(['orders/server.js'])
    expect(record.selector).toBe('rules')
    // By paths, exactly the plans the change's expect file lists, as far as the catalog has them; the
    // shop's impact map adds those whose recorded functions hold the changed line, each saying so.
    const catalog = new Set([...record.plans, ...record.rejected].map((p) => p.name))
    const expected = (
      JSON.parse(readFileSync(path.join(root, 'samples/shop/changes/field-rename.expect.json'), 'utf8')) as {
        plans: string[]
      }
    ).plans.filter((name) => catalog.has(name))
    expect(record.plans.filter((p) => p.source === 'paths').map((p) => p.name)).toEqual(expected)
    expect(expected).toEqual(expect.arrayContaining(['checkout-flow', 'checkout-load', 'orders-contract']))
    for (const p of record.plans.filter((p) => p.source !== 'paths')) {
      expect(p.source).toBe('impact')
      expect(p.reason).toMatch(/^impact map: orders\/server\.js:\d+ is in \w+/)
    }

    const verdict = JSON.parse(readFileSync(path.join(out, 'verdict.json'), 'utf8')) as Verdict
    expect(validateVerdict(verdict).valid).toBe(true)
    expect(verdict).toMatchObject({ status: 'fail', exitCode: 1, identity: { base: mainCommit } })
    expect(verdict.selection?.plans.map((p) => p.name)).toEqual(record.plans.map((p) => p.name))
    const states = Object.fromEntries(verdict.plans.map((p) => [p.name, p.state]))
    expect(states['orders-contract']).toBe('failed')
    expect(states['checkout-flow']).toBe('failed')
    const phases = verdict.timings.map((t) => t.phase)
    for (const phase of [
      'diff',
      'selection',
      'sandbox:candidate',
      'sandbox:baseline',
      'plan:orders-contract',
    ])
      expect(phases).toContain(phase)
    expect(phases.indexOf('selection')).toBeLessThan(phases.indexOf('sandbox:candidate'))

    const junit = new XMLParser({ ignoreAttributes: false }).parse(
      readFileSync(path.join(repo, 'reports/vigil.xml'), 'utf8'),
    ) as { testsuites: { '@_failures': string } }
    expect(Number(junit.testsuites['@_failures'])).toBeGreaterThan(0)
    // --junit is a copy: the run's folder keeps its own junit.xml.
    expect(readFileSync(path.join(out, 'junit.xml'), 'utf8')).toBe(
      readFileSync(path.join(repo, 'reports/vigil.xml'), 'utf8'),
    )
    const summary = readFileSync(path.join(out, 'summary.md'), 'utf8')
    expect(summary).toContain('FAIL')
    expect(summary).toContain('orders-contract')
    // Beside each curl line, the command that replays the finding from the stable link after the run.
    const failing = verdict.plans
      .flatMap((p) => p.checks)
      .flatMap((c) => ('findings' in c ? c.findings : []))
      .find((f) => f.severity === 'error' && f.evidence?.reproduce)!
    expect(summary).toContain(`vigil reproduce .vigil/ci/verdict.json ${failing.id}`)
    expect(stdout).toContain(`after run: vigil reproduce .vigil/ci/verdict.json ${failing.id}`)
    expect(verdict.identity.sides?.baseline?.source).toMatchObject({ kind: 'ref', commit: mainCommit })
    const step = readFileSync(stepSummary, 'utf8')
    expect(step.startsWith('# earlier step\n')).toBe(true)
    expect(step).toContain(summary.trim().split('\n')[0]!)

    expect(stdout).toContain('Base: main (--base)')
    expect(stdout).toMatch(/checkout-flow\s+paths\s+paths orders\/\*\* matched orders\/server\.js/)
    expect(stdout).toContain('Where time went')
    expect(stdout).toMatch(/sandbox:candidate\s+\d/)
    expect(stdout).toContain('.vigil/ci/verdict.json')
    expect(stdout + stderr).not.toContain('alice-token')
    // The baseline ran from a temporary worktree of the merge base, and it is gone.
    expect(git('worktree', 'list').split('\n')).toHaveLength(1)
  }, 120_000)

  it('runs a selection record file against the merge base the record was made from', async () => {
    const made = JSON.parse(readFileSync(path.join(repo, '.vigil/ci/selection.json'), 'utf8')) as {
      plans: Array<{ name: string }>
    }
    // Only the contract plan, to keep the run short.
    made.plans = made.plans.filter((p) => p.name === 'orders-contract')
    writeFileSync(path.join(work, 'selection.json'), JSON.stringify(made))
    const { code, stdout, stderr } = await vigil(
      [
        'ci',
        '--config',
        'shop/vigil.config.yaml',
        '--selection',
        path.join(work, 'selection.json'),
        '--out',
        'again',
      ],
      repo,
    )
    expect(code, stderr).toBe(1)
    expect(stdout).toContain(`Change: baseline at ${mainCommit}`)
    const verdict = JSON.parse(readFileSync(path.join(repo, 'again/verdict.json'), 'utf8')) as Verdict
    expect(verdict.plans.map((p) => [p.name, p.state])).toEqual([['orders-contract', 'failed']])
    expect(verdict.identity.base).toBe(mainCommit)
    expect(verdict.selection?.selector).toBe('rules')
    rmSync(path.join(repo, 'again'), { recursive: true, force: true })
  }, 120_000)

  it('finds the default branch, and passes a docs-only change without starting sandboxes', async () => {
    // The first test's artefacts are untracked files here; another --out must not see them as the change.
    rmSync(path.join(repo, 'reports'), { recursive: true, force: true })
    rmSync(path.join(repo, '.vigil'), { recursive: true, force: true })
    git('checkout', '-q', '-b', 'docs', 'main')
    writeFileSync(
      path.join(repo, 'shop/README.md'),
      `${readFileSync(path.join(repo, 'shop/README.md'))}\nMore.\n`,
    )
    git('commit', '-q', '-am', 'docs')
    const { code, stdout, stderr } = await vigil(
      ['ci', '--config', 'shop/vigil.config.yaml', '--out', 'artefacts'],
      repo,
    )
    expect(code, stderr).toBe(0)
    expect(stdout).toContain('Base: main (fallback: no origin/HEAD;')
    expect(stdout).toContain('No plans apply to this change')
    expect(stderr).not.toContain('sandbox')
    const verdict = JSON.parse(readFileSync(path.join(repo, 'artefacts/verdict.json'), 'utf8')) as Verdict
    expect(verdict).toMatchObject({ status: 'pass', exitCode: 0, plans: [] })
    expect(verdict.timings.some((t) => t.phase.startsWith('sandbox:'))).toBe(false)
    const record = JSON.parse(readFileSync(path.join(repo, 'artefacts/selection.json'), 'utf8')) as {
      plans: unknown[]
      diff: { files: Array<{ path: string }> }
    }
    expect(record.plans).toEqual([])
    expect(record.diff.files.map((f) => f.path)).toEqual(['README.md'])
  }, 120_000)

  it('rejects --base with --patch, and an unknown base, as usage errors (exit 2)', async () => {
    const both = await vigil(
      ['ci', '--config', 'shop/vigil.config.yaml', '--base', 'main', '--patch', 'x.patch'],
      repo,
    )
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('give --base or --patch, not both')
    const unknown = await vigil(
      ['ci', '--config', 'shop/vigil.config.yaml', '--base', 'no-such-branch'],
      repo,
    )
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no-such-branch')
  }, 60_000)
})
