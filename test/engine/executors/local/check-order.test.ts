/**
 * Checks that do not disturb each other: a check creating data on the candidate runs after the checks
 * that compare with the baseline, so a comparing list check sees the same list on both sides. A real
 * service in two process sandboxes; the rule itself on plain blocks.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { changesState, comparesOnly } from '../../../../engine/executors/local/check-order.js'
import { runValidation } from '../../../../engine/run/run.js'

let dir: string
// GET /items reads the list only after a pause: a POST sent meanwhile would be in the answer.
const SERVICE = `const http = require('node:http')
const items = [{ id: 1, name: 'first' }]
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  if (req.method === 'POST' && req.url === '/items') {
    const item = { id: items.length + 1, name: 'added' }
    items.push(item)
    res.statusCode = 201
    return res.end(JSON.stringify(item))
  }
  if (req.url === '/items') return setTimeout(() => res.end(JSON.stringify(items)), 400)
  res.end('{}')
}).listen(Number(process.env.PORT), '127.0.0.1')
`

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-check-order-'))
  mkdirSync(path.join(dir, 'plans'))
  writeFileSync(path.join(dir, 'server.js'), SERVICE)
  writeFileSync(
    path.join(dir, 'vigil.config.yaml'),
    `plans: [plans]\nconcurrency: 4\nsandbox:\n  provider: process\n  services:\n    api: { command: ${JSON.stringify([process.execPath, 'server.js'])} }\n`,
  )
  // The creating plan comes first in plan order: without the phases it would start first.
  writeFileSync(
    path.join(dir, 'plans/a-create.md'),
    '---\nname: a-create\ntitle: Items can be created\nselectionHint: Creating items through the API, POST /items.\n---\n\n```e2e\nsteps:\n  - name: create\n    request: POST /items\n    expect: { status: 201 }\n```\n',
  )
  writeFileSync(
    path.join(dir, 'plans/b-list.md'),
    '---\nname: b-list\ntitle: The list of items is as before\nselectionHint: Listing items through the API, GET /items.\n---\n\n```contract\nrequest: GET /items\nexpect: { status: 200 }\ncompare: baseline\n```\n',
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the order of checks in a run', () => {
  it('an e2e check that creates data on the candidate does not make a comparing list check warn', async () => {
    const verdict = await runValidation({ configPath: 'vigil.config.yaml', cwd: dir })
    expect(verdict.status, JSON.stringify(verdict.plans, null, 2)).toBe('pass')
    const list = verdict.plans.find((p) => p.name === 'b-list')!.checks[0]!
    expect(list.state).toBe('passed')
    const findings = 'findings' in list ? list.findings.filter((f) => f.severity !== 'info') : []
    expect(findings).toEqual([])
    expect(verdict.plans.find((p) => p.name === 'a-create')!.checks[0]!.state).toBe('passed')
  }, 120_000)

  it('tells comparing reads from checks that change state', () => {
    expect(comparesOnly({ request: 'GET /items', compare: 'baseline' }, false)).toBe(true)
    expect(comparesOnly({ request: 'GET /items' }, false)).toBe(false)
    expect(comparesOnly({ request: 'POST /items', compare: { unsafe: true } }, false)).toBe(false)
    expect(
      comparesOnly({ requests: [{ request: { method: 'delete', path: '/x' } }], compare: true }, false),
    ).toBe(false)
    expect(comparesOnly({ openapi: '../openapi.yaml', compare: 'baseline' }, false)).toBe(false)
    expect(comparesOnly({ steps: [{ request: 'GET /a' }] }, true)).toBe(true)
    expect(changesState({ steps: [{ request: 'GET /a' }, { request: 'PUT /a' }] })).toBe(true)
    expect(changesState({ trigger: { publish: { channel: 'x' } } })).toBe(true)
    expect(changesState({ compare: false, request: 'GET /a' })).toBe(false)
  })
})
