/**
 * vigil's own outputs are never part of a change: a second `vigil ci` on an unchanged tree sees the same
 * (empty) diff as the first, whatever reports the first one wrote, in a real git repository.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { PassThrough } from 'node:stream'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCi } from '../../engine/ci/run-ci.js'
import type { CiOptions } from '../../engine/ci/run-ci.js'

let dir: string
const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim()
const sink = () => {
  const chunks: string[] = []
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()))
  return Object.assign(stream, { text: () => chunks.join('') })
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-own-outputs-'))
  git('init', '-q', '-b', 'main')
  git('config', 'user.email', 't@example.com')
  git('config', 'user.name', 't')
  mkdirSync(path.join(dir, 'plans'))
  mkdirSync(path.join(dir, 'svc'))
  writeFileSync(path.join(dir, 'svc/server.js'), 'process.exit(0)\n')
  writeFileSync(
    path.join(dir, 'vigil.config.yaml'),
    'plans: [plans]\nsandbox:\n  provider: process\n  services:\n    api: { command: node svc/server.js }\n',
  )
  writeFileSync(
    path.join(dir, 'plans/api.md'),
    '---\nname: api\ntitle: The API answers\nselectionHint: The API service and its health endpoint.\npaths: [svc/**]\n---\n\n```contract\nrequest: GET /health\nexpect: { status: 200 }\n```\n',
  )
  git('add', '.')
  git('commit', '-q', '-m', 'first')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function ci(options: Partial<CiOptions>) {
  const stdout = sink()
  const stderr = sink()
  const result = await runCi({
    cwd: dir,
    base: 'main',
    selector: 'rules',
    env: { PATH: process.env.PATH ?? '' },
    stdout,
    stderr,
    ...options,
  })
  return { ...result, out: stdout.text(), err: stderr.text() }
}

describe("vigil ci leaves vigil's own outputs out of the change", () => {
  it('a second run on an unchanged tree sees the diff the first saw, without the reports the first wrote', async () => {
    const first = await ci({
      junit: 'reports/junit.xml',
      reporters: ['markdown:summary.md', 'json:out/verdict.json'],
    })
    expect(first.exitCode, first.err).toBe(0)
    expect(first.record.diff.files).toEqual([])
    for (const file of ['reports/junit.xml', 'summary.md', 'out/verdict.json', '.vigil/ci/verdict.json'])
      expect(existsSync(path.join(dir, file)), file).toBe(true)
    expect(JSON.parse(readFileSync(path.join(dir, '.vigil/written.json'), 'utf8'))).toEqual([
      'out/verdict.json',
      'reports/junit.xml',
      'summary.md',
    ])

    // No flags this time: the files the first run wrote are still not a change, and neither is .vigil/.
    const second = await ci({})
    expect(second.exitCode, second.err).toBe(0)
    expect(second.record.diff.files).toEqual([])
    expect(second.record.diff.hash).toBe(first.record.diff.hash)
    expect(second.record.plans).toEqual(first.record.plans)
  }, 60_000)

  it('still sees a real change beside them', async () => {
    writeFileSync(path.join(dir, 'notes.txt'), 'a real file\n')
    try {
      const third = await ci({})
      expect(third.record.diff.files.map((f) => f.path)).toEqual(['notes.txt'])
    } finally {
      rmSync(path.join(dir, 'notes.txt'))
    }
  }, 60_000)
})
