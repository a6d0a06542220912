import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { schemas } from '../../plans/index.js'
import { planText, tempTree } from './helpers.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const bin = path.join(repo, 'bin/vigil.js')

interface Ran {
  code: number
  stdout: string
  stderr: string
}

/** Runs the real CLI in `cwd`. */
function vigil(args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd, timeout: 25_000, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

const broken = `---
name: broken
title: Broken
selectionHint: Validates the broken endpoints and their schema.
blocking: sometimes
---

\`\`\`contrct
request: GET /x
\`\`\`
`

describe('vigil plans', () => {
  it("lint: exit 0 and a summary when clean, using the config's plan folders", async () => {
    const cwd = await tempTree({
      'vigil.config.yaml': 'plans: [checks]\n',
      'checks/a.md': planText('a'),
      'checks/b.md': planText('b'),
    })
    const ran = await vigil(['plans', 'lint'], cwd)
    expect(ran).toEqual({ code: 0, stdout: '2 files checked, 2 plans, no problems\n', stderr: '' })
  })

  it('lint: exit 2 with one file:line:col line per problem', async () => {
    const cwd = await tempTree({ 'plans/a.md': planText('a'), 'plans/broken.md': broken })
    const ran = await vigil(['plans', 'lint'], cwd)
    expect(ran.code).toBe(2)
    expect(ran.stdout).toBe(
      [
        'plans/broken.md:5:11 blocking must be true or false, got "sometimes"',
        'plans/broken.md:8:4 unknown check kind "contrct"; did you mean "contract"?',
        '',
        '2 errors, 0 warnings in 2 files',
        '',
      ].join('\n'),
    )
  })

  it('lint --json: the documented shape, valid against plans/schema/lint-report.json', async () => {
    const cwd = await tempTree({
      'p/a.md': planText('a'),
      'p/broken.md': broken,
      'p/empty.md': planText('e').split('```')[0]!,
    })
    const ran = await vigil(['plans', 'lint', 'p', '--json'], cwd)
    expect(ran.code).toBe(2)
    const report = JSON.parse(ran.stdout) as Record<string, unknown>
    const validate = new Ajv({ strict: false }).compile(schemas.lintReport)
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true)
    expect(report).toEqual({
      version: 1,
      ok: false,
      errorCount: 2,
      warningCount: 1,
      files: 3,
      diagnostics: [
        {
          file: 'p/broken.md',
          line: 5,
          column: 11,
          severity: 'error',
          code: 'wrong-type',
          message: 'blocking must be true or false, got "sometimes"',
          plan: 'broken',
        },
        {
          file: 'p/broken.md',
          line: 8,
          column: 4,
          severity: 'error',
          code: 'unknown-kind',
          message: 'unknown check kind "contrct"; did you mean "contract"?',
          plan: 'broken',
        },
        {
          file: 'p/empty.md',
          line: 1,
          column: 1,
          severity: 'warning',
          code: 'no-checks',
          message: expect.stringContaining('plan has no check blocks') as unknown as string,
          plan: 'e',
        },
      ],
    })
  })

  it('list: name, title, hint, kinds and file; --json too', async () => {
    const cwd = await tempTree({
      'plans/b.md': planText('b', 'blocking: false\n'),
      'plans/a.md': planText('a'),
    })
    const ran = await vigil(['plans', 'list'], cwd)
    expect(ran.code).toBe(0)
    expect(ran.stdout).toBe(
      [
        'a  Plan a',
        '  plans/a.md | contract',
        '  Validates the a endpoints and their response schema.',
        'b  Plan b',
        '  plans/b.md | contract | non-blocking',
        '  Validates the b endpoints and their response schema.',
        '2 plans',
        '',
      ].join('\n'),
    )
    const json = JSON.parse((await vigil(['plans', 'list', '--json'], cwd)).stdout) as { plans: unknown[] }
    expect(json.plans[0]).toEqual({
      name: 'a',
      title: 'Plan a',
      selectionHint: 'Validates the a endpoints and their response schema.',
      kinds: ['contract'],
      checks: [{ id: 'a/contract #1', kind: 'contract', name: 'contract #1', line: 7 }],
      file: 'plans/a.md',
      paths: [],
      tags: [],
      always: false,
      blocking: true,
    })
  })

  it('list: broken plans are reported on stderr and the exit code is 2', async () => {
    const cwd = await tempTree({ 'plans/a.md': planText('a'), 'plans/broken.md': broken })
    const ran = await vigil(['plans', 'list'], cwd)
    expect(ran.code).toBe(2)
    expect(ran.stdout).toContain('1 plan\n')
    expect(ran.stderr).toContain('vigil: plans/broken.md:8:4 unknown check kind "contrct"')
  })

  it('show: the parsed plan as YAML or JSON; an unknown name suggests the nearest', async () => {
    const cwd = await tempTree({ 'plans/orders.md': planText('orders', 'timeout: 90s\n') })
    const ran = await vigil(['plans', 'show', 'orders'], cwd)
    expect(ran.code).toBe(0)
    expect(parse(ran.stdout)).toMatchObject({
      name: 'orders',
      file: 'plans/orders.md',
      timeout: '1m30s',
      checks: [
        {
          id: 'orders/contract #1',
          kind: 'contract',
          at: 'plans/orders.md:8:1',
          params: { request: 'GET /orders' },
        },
      ],
    })
    const json = JSON.parse((await vigil(['plans', 'show', 'orders', '--json'], cwd)).stdout) as Record<
      string,
      unknown
    >
    expect(json).toMatchObject({ name: 'orders', timeoutMs: 90_000 })
    expect(json).not.toHaveProperty('dir')
    const missing = await vigil(['plans', 'show', 'ordres'], cwd)
    expect(missing).toEqual({
      code: 2,
      stdout: '',
      stderr: 'vigil: no plan named "ordres"; did you mean "orders"?\n',
    })
  }, 90_000)

  it('reports a broken config as file:line:col with exit 2', async () => {
    const cwd = await tempTree({ 'vigil.config.yaml': 'plan: [x]\n' })
    const ran = await vigil(['plans', 'lint'], cwd)
    expect(ran.code).toBe(2)
    expect(ran.stderr).toMatch(
      /^vigil: vigil\.config\.yaml:1:1 unknown property "plan"; .*\(did you mean "plans"\?\)\n$/,
    )
  })

  it('help, unknown subcommands and unknown flags', async () => {
    const cwd = await tempTree({})
    const help = await vigil(['plans', '--help'], cwd)
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/lint \[options\] \[paths\.\.\.\]/)
    expect(help.stdout).toMatch(/show \[options\] <name> \[paths\.\.\.\]/)
    const top = await vigil(['--help'], cwd)
    expect(top.stdout).toContain('plans')
    const unknown = await vigil(['plans', 'lnt'], cwd)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("unknown command 'lnt'")
    const flag = await vigil(['plans', 'lint', '--jsn'], cwd)
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain("unknown option '--jsn'")
  }, 90_000)
})
