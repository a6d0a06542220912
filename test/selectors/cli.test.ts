/** `vigil select` end to end: the real CLI in a child process, a real git repo, the local Messages API. */
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { EvalReport } from '../../selectors/eval.js'
import { readSelectionRecord, toVerdictSelection } from '../../selectors/index.js'
import type { SelectionRecord } from '../../selectors/index.js'
import { startMessagesApi, toolReply } from '../support/messages-api.js'
import { modify } from './fixtures.js'
import type { MessagesApiServer } from '../support/messages-api.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const bin = path.join(root, 'bin/vigil.js')

interface Result {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI with a clean environment: no API key unless the test gives one. */
function vigil(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): Promise<Result> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: os.tmpdir(),
    NO_COLOR: '1',
    ...options.env,
  }
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { cwd: options.cwd ?? root, env, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    )
    child.stdin?.end(options.input ?? '')
  })
}

let work: string
let repo: string
const planFile = (name: string, hint: string, paths: string[]) =>
  `---\nname: ${name}\ntitle: ${name}\nselectionHint: ${hint}\npaths: [${paths.join(', ')}]\n---\n\n# ${name}\n`

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'vigil-select-cli-'))
  // A repository whose config lives in app/, with two plans.
  repo = path.join(work, 'repo')
  const app = path.join(repo, 'app')
  mkdirSync(path.join(app, 'plans'), { recursive: true })
  mkdirSync(path.join(app, 'orders'), { recursive: true })
  writeFileSync(path.join(app, 'vigil.config.yaml'), 'plans: [plans]\n')
  writeFileSync(
    path.join(app, 'plans/orders-api.md'),
    planFile('orders-api', 'Order creation, totals and payment.', ['orders/**']),
  )
  writeFileSync(
    path.join(app, 'plans/search.md'),
    planFile('search', 'Product search ranking and facets.', ['search/**']),
  )
  writeFileSync(path.join(app, 'orders/server.js'), 'export const total = 1\n')
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo })
  git('init', '-q', '-b', 'main')
  git('config', 'user.email', 't@example.com')
  git('config', 'user.name', 't')
  git('add', '.')
  git('commit', '-q', '-m', 'base')
  writeFileSync(path.join(app, 'orders/server.js'), 'export const totalCents = 1\n')
  writeFileSync(path.join(repo, 'README.md'), 'outside the config folder\n')
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

let api: MessagesApiServer | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

const config = () => path.join(repo, 'app/vigil.config.yaml')
const patch =
  'diff --git a/orders/server.js b/orders/server.js\n--- a/orders/server.js\n+++ b/orders/server.js\n@@ -1 +1 @@\n-a\n+b\n'

describe('vigil select', { timeout: 90_000 }, () => {
  it('selects from a --base diff, mapping repository paths to the config folder', async () => {
    const result = await vigil(['select', '--config', config(), '--base', 'main', '--json'])
    expect(result.code).toBe(0)
    const record = JSON.parse(result.stdout) as SelectionRecord
    expect(record.diff).toMatchObject({ source: 'base', base: 'main' })
    expect(record.diff.files.map((f) => [f.path, f.outside ?? false])).toEqual([
      ['../README.md', true],
      ['orders/server.js', false],
    ])
    expect(record).toMatchObject({ selector: 'rules', selectorChoice: 'default: no API key' })
    expect(record.plans).toEqual([
      { name: 'orders-api', source: 'paths', reason: 'paths orders/** matched orders/server.js' },
    ])
  })

  it('reads stdin, prints plans with source and reason, and writes --out', async () => {
    const out = path.join(work, 'out/record.json')
    const result = await vigil(['select', '--config', config(), '--out', out], { input: patch })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^1 of 2 plans apply: selector rules \(default: no API key\)\./)
    expect(result.stdout).toMatch(/orders-api\s+paths\s+paths orders\/\*\* matched orders\/server\.js/)
    const record = await readSelectionRecord(out)
    expect(record.diff.source).toBe('stdin')
  })

  it('hands its record to `vigil run --selection`, which keeps exactly that selection', async () => {
    const out = path.join(work, 'run/record.json')
    await vigil(['select', '--config', config(), '--out', out, '-'], { input: patch })
    const record = await readSelectionRecord(out)
    const run = await vigil(['run', '--config', config(), '--selection', out, '--json', '--no-baseline'])
    const verdict = JSON.parse(run.stdout) as { selection: unknown }
    expect(verdict.selection).toEqual(toVerdictSelection(record))
    expect(verdict.selection).toMatchObject({
      selector: 'rules',
      plans: [{ name: 'orders-api', source: 'paths' }],
    })

    const bad = path.join(work, 'run/bad.json')
    writeFileSync(
      bad,
      JSON.stringify({ ...record, plans: [{ name: 'orders-api', source: 'guess', reason: 'r' }] }),
    )
    const refused = await vigil(['run', '--config', config(), '--selection', bad])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain(
      'not a vigil selection record: /plans/0/source must be equal to one of the allowed values',
    )
  })

  it('says so when no plans apply, but refuses an empty pipe nobody asked for', async () => {
    const result = await vigil(['select', '--config', config(), '-'], { input: '' })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^No plans apply to this change/)
    const implicit = await vigil(['select', '--config', config()], { input: '' })
    expect(implicit.code).toBe(2)
    expect(implicit.stderr).toContain(
      'select: stdin is empty; pass - to select for an empty diff, or use --base REF',
    )
  })

  it('exits 2 on usage errors, naming the problem', async () => {
    const two = await vigil(['select', '--config', config(), '--base', 'main', '--patch', 'x.patch'])
    expect(two.code).toBe(2)
    expect(two.stderr).toContain('give one of DIFF, --patch, --base or --eval')
    const selector = await vigil(['select', '--config', config(), '--selector', 'magic', '-'])
    expect(selector.code).toBe(2)
    expect(selector.stderr).toContain('--selector magic: expected one of hybrid, llm, rules')
    const missing = await vigil(['select', '--config', config(), '--patch', 'missing.patch'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('--patch missing.patch: cannot read it')
  })

  it('defaults to hybrid with a key, and the cache makes the second run call no API', async () => {
    api = await startMessagesApi({
      replies: [
        toolReply({
          selected: [{ name: 'search', reason: 'totals show in search' }],
          rejected: [{ name: 'orders-api', reason: 'kept by its paths anyway' }],
        }),
      ],
    })
    const env = { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: api.url }
    const cacheDir = path.join(work, 'cache')
    const args = ['select', '--config', config(), '--cache-dir', cacheDir, '--json', '-']
    const first = JSON.parse((await vigil(args, { env, input: patch })).stdout) as SelectionRecord
    const second = JSON.parse((await vigil(args, { env, input: patch })).stdout) as SelectionRecord
    expect(api.requests).toHaveLength(1)
    expect(first).toMatchObject({
      selector: 'hybrid',
      selectorChoice: 'default: API key present',
      degraded: false,
    })
    expect(first.plans.map((p) => `${p.name}:${p.source}`)).toEqual(['orders-api:paths', 'search:llm'])
    expect(second.plans).toEqual(first.plans)
    expect(second.cache?.hit).toBe(true)
  })

  it('evaluates rules on the shop: no existing plan is ever missed, and every miss and false pick is named', async () => {
    const result = await vigil([
      'select',
      '--config',
      'samples/shop/vigil.config.yaml',
      '--eval',
      'samples/shop/changes',
      '--selector',
      'rules',
      '--json',
    ])
    expect(result.code).toBe(0)
    const report = JSON.parse(result.stdout) as EvalReport
    expect(report.selector).toBe('rules')
    expect(report.totals.changes).toBeGreaterThanOrEqual(5)
    // Labels may name plans that have not landed yet; every other expected plan must be found.
    const unknown = new Set(report.unknownLabels.map((u) => `${u.change}/${u.plan}`))
    const realMisses = report.changes
      .flatMap((c) => c.misses.map((m) => `${c.name}/${m}`))
      .filter((m) => !unknown.has(m))
    expect(realMisses).toEqual([])
    if (!unknown.size) expect(report.totals.recall).toBe(1)
    for (const change of report.changes) {
      expect(change.selected.filter((p) => !change.expected.includes(p) && !change.may.includes(p))).toEqual(
        change.falsePicks,
      )
    }
    const text = await vigil([
      'select',
      '--config',
      'samples/shop/vigil.config.yaml',
      '--eval',
      'samples/shop/changes',
      '--selector',
      'rules',
    ])
    expect(text.stdout).toMatch(/change\s+precision\s+recall\s+F1\s+misses\s+false picks/)
    expect(text.stdout).toMatch(/^total\s+\d\.\d\d\s+\d\.\d\d/m)
  })

  it('evaluates on a labels file: must and may plans, the run-everything floor, and a hint when the diffs are missing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-select-labels-'))
    try {
      mkdirSync(path.join(dir, 'plans'))
      const planFile = (name: string, hint: string) =>
        `---\nname: ${name}\ntitle: ${name}\nselectionHint: ${hint}\n---\n\n# ${name}\n`
      writeFileSync(
        path.join(dir, 'plans/pagination.md'),
        planFile('pagination', 'Pagination of lists with page and limit parameters.'),
      )
      writeFileSync(
        path.join(dir, 'plans/homepage.md'),
        planFile('homepage', 'The homepage stylesheet, scripts and its template.'),
      )
      writeFileSync(path.join(dir, 'vigil.config.yaml'), 'plans: [plans]\n')
      const sha = (c: string) => c.repeat(40)
      const labels = {
        project: 'demo',
        repository: 'https://example.test/demo.git',
        diffs: 'diffs',
        regenerate: 'bash regenerate.sh CLONE',
        changes: [
          {
            sha: sha('a'),
            subject: 'Paginate lists',
            must: ['pagination'],
            may: ['homepage'],
            reason: 'changes the page and limit parameters',
          },
          { sha: sha('b'), subject: 'Fix a typo', must: [], may: [], reason: 'README only, nothing runs' },
        ],
      }
      writeFileSync(path.join(dir, 'labels.json'), JSON.stringify(labels))
      const args = ['select', '--config', 'vigil.config.yaml', '--eval', 'labels.json', '--selector', 'rules']
      const missing = await vigil(args, { cwd: dir })
      expect(missing.code).toBe(2)
      expect(missing.stderr).toContain(
        '--eval labels.json: the diffs are not there (diffs); regenerate them with: bash regenerate.sh CLONE',
      )

      mkdirSync(path.join(dir, 'diffs'))
      writeFileSync(
        path.join(dir, 'diffs', `${sha('a')}.patch`),
        modify('src/list.js', ['const page = 1'], ['const page = Number(query.page) // pagination limit']),
      )
      writeFileSync(path.join(dir, 'diffs', `${sha('b')}.patch`), modify('README.md', ['teh'], ['the']))
      const result = await vigil([...args, '--json'], { cwd: dir })
      expect(result.code).toBe(0)
      const report = JSON.parse(result.stdout) as EvalReport
      expect(report.changes.map((c) => [c.name, c.description, c.misses])).toEqual([
        ['aaaaaaa', 'Paginate lists', []],
        ['bbbbbbb', 'Fix a typo', []],
      ])
      expect(report.totals).toMatchObject({ recall: 1, changesWithMust: 1, changesWithMiss: 0 })
      expect(report.runEverything).toMatchObject({ plansPerChange: 2, recall: 1, precision: 0.5 })
      const text = await vigil(args, { cwd: dir })
      expect(text.stdout).toMatch(/^run everything\s+1\.00\s+1\.00\s+0\.50\s+2\.00\s+0 of 1$/m)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

it('keeps the written record readable by others (schema file is valid JSON)', () => {
  const schema = JSON.parse(
    readFileSync(path.join(root, 'selectors/schema/selection-record.json'), 'utf8'),
  ) as { properties: object }
  expect(Object.keys(schema.properties)).toContain('plans')
})
