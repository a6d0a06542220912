/**
 * Every command that takes a change reads it with the same function: text that is not a unified diff is
 * refused by `vigil select`, `vigil ci --patch`, `vigil run --patch`, `vigil adversary suggest` and the MCP
 * tools alike (exit 2, or a tool error, with the same message), and an empty diff is a legal change.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { runVigil, vigilBin } from '../../support/cli.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const env = { PATH: process.env.PATH ?? '', HOME: os.tmpdir() }
const vigil = (args: string[], cwd: string) => runVigil(args, { cwd, env })

/** Non-diff inputs, each with the reason every command gives. */
const NOT_DIFFS: Record<string, { bytes: Buffer; reason: string }> = {
  'prose.txt': {
    bytes: Buffer.from('please review my change\n'),
    reason: 'no "diff --git" or "---/+++" file sections found',
  },
  'page.html': {
    bytes: Buffer.from('<!doctype html><html><body>502 Bad Gateway</body></html>\n'),
    reason: 'no "diff --git" or "---/+++" file sections found',
  },
  'image.png': {
    bytes: Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52,
    ]),
    reason: 'binary data (NUL bytes)',
  },
  'header-only.patch': {
    bytes: Buffer.from('diff --git a/api/server.js b/api/server.js\n'),
    reason: 'api/server.js has a header but no hunks (a truncated diff?)',
  },
}

let project: string
let server: Server
let port = 0

beforeAll(async () => {
  server = createServer((_req, res) => res.end('{"ok":true}'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
  project = await mkdtemp(path.join(os.tmpdir(), 'vigil-change-input-'))
  await mkdir(path.join(project, 'plans'))
  await mkdir(path.join(project, 'api'))
  await writeFile(path.join(project, 'api/server.js'), 'a\n')
  await writeFile(
    path.join(project, 'vigil.config.yaml'),
    `plans: [plans]\nsandbox: { provider: url, services: { api: { url: "http://127.0.0.1:${port}" } } }\n`,
  )
  await writeFile(
    path.join(project, 'plans/api.md'),
    `---
name: api-health
title: The API answers
selectionHint: Validates that the api service answers its health endpoint.
paths: [api/**]
---

\`\`\`contract
request: GET /health
expect: { status: 200 }
\`\`\`
`,
  )
  for (const [file, { bytes }] of Object.entries(NOT_DIFFS)) await writeFile(path.join(project, file), bytes)
  await writeFile(path.join(project, 'empty.patch'), '')
})

afterAll(async () => {
  server.close()
  await rm(project, { recursive: true, force: true })
})

describe('text that is not a diff', () => {
  for (const [file, { reason }] of Object.entries(NOT_DIFFS)) {
    it(`${file}: select, ci, run and adversary suggest all refuse it with exit 2 and the same reason`, async () => {
      const commands: Record<string, string[]> = {
        select: ['select', file],
        'select --patch': ['select', '--patch', file],
        'ci --patch': ['ci', '--patch', file, '--out', `.vigil/out-${file}`],
        'run --patch': ['run', '--patch', file],
        'adversary suggest': ['adversary', 'suggest', '--plan', 'plans/api.md', '--diff', file],
      }
      const results = await Promise.all(Object.values(commands).map((args) => vigil(args, project)))
      const runs = Object.fromEntries(Object.keys(commands).map((name, i) => [name, results[i]!]))
      for (const [command, ran] of Object.entries(runs)) {
        expect(ran.code, `${command}: ${ran.stderr}${ran.stdout}`).toBe(2)
        const label = command.endsWith('--patch') ? `--patch ${file}` : file
        expect(ran.stdout + ran.stderr, command).toContain(`${label}: not a unified diff (${reason})`)
        expect(ran.stdout + ran.stderr, command).not.toContain('No plans apply')
      }
    }, 120_000)
  }
})

describe('an empty diff is a legal change', () => {
  it('select says no plans apply (exit 0); ci and run go on with the folder as it is', async () => {
    const select = await vigil(['select', 'empty.patch'], project)
    expect(select.code).toBe(0)
    expect(select.stdout).toMatch(/^No plans apply to this change/)
    const ci = await vigil(['ci', '--patch', 'empty.patch', '--out', '.vigil/out'], project)
    expect(ci.code, ci.stderr).toBe(0)
    const run = await vigil(['run', '--patch', 'empty.patch', '--no-baseline'], project)
    expect(run.code, run.stderr + run.stdout).toBe(0)
    expect(run.stdout).toMatch(/PASS · 1 check/)
  }, 120_000)
})

describe('the MCP tools', () => {
  let client: Client
  beforeAll(async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [vigilBin, 'mcp'],
      cwd: project,
      env: { ...env, NO_COLOR: '1' },
    })
    client = new Client({ name: 'vigil-test', version: '1.0.0' })
    await client.connect(transport)
  }, 60_000)
  afterAll(async () => {
    await client?.close()
  })
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult
  const text = (result: CallToolResult) =>
    result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n')

  it('select_plans and run_plans refuse the same texts for the same reasons', async () => {
    for (const [file, { bytes, reason }] of Object.entries(NOT_DIFFS)) {
      const inline = await call('select_plans', { diff: bytes.toString('utf8') })
      expect(inline.isError).toBe(true)
      expect(text(inline)).toBe(`select_plans: diff: not a unified diff (${reason})`)
      const patch = await call('select_plans', { patch: file })
      expect(text(patch)).toBe(`select_plans: --patch ${file}: not a unified diff (${reason})`)
      const run = await call('run_plans', {
        plans: ['api-health'],
        diff: bytes.toString('utf8'),
        baseline: false,
      })
      expect(run.isError).toBe(true)
      expect(text(run)).toBe(`run_plans: diff: not a unified diff (${reason})`)
    }
  })

  it('an empty diff selects nothing, and is not an error', async () => {
    const result = await call('select_plans', { diff: '' })
    expect(result.isError).toBeFalsy()
    expect((result.structuredContent as { plans: unknown[] }).plans).toEqual([])
  })
})
