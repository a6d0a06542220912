import { rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectEngine } from '../../../../../engine/kinds/load/engines.js'
import { findK6, runK6Segment } from '../../../../../engine/kinds/load/k6/runner.js'
import { resolveLoadSpec } from '../../../../../engine/kinds/load/spec.js'
import { startServer, type SlowServer } from '../server.js'
import { createStandInK6 } from './standin.js'

let server: SlowServer
let k6: { dir: string; binary: string }
const argsFile = path.join(os.tmpdir(), `vigil-standin-args-${process.pid}.json`)

beforeAll(async () => {
  server = await startServer(1)
  k6 = await createStandInK6()
  process.env.STANDIN_ARGS = argsFile
})
afterAll(async () => {
  await server.close()
  await rm(k6.dir, { recursive: true, force: true })
  await rm(argsFile, { force: true })
})

const spec = () =>
  resolveLoadSpec(
    {
      requests: [
        {
          name: 'create',
          weight: 3,
          request: 'GET /orders',
          headers: { authorization: 'Bearer alice-token' },
        },
        { name: 'lookup', request: 'GET /products/tea' },
      ],
      connections: 2,
      duration: '1s',
      thresholds: { http_req_duration: ['p(95)<1000'] },
    },
    { serviceUrl: server.url, service: 'orders', planDir: '.' },
  )
const target = () => ({ side: 'candidate', baseUrl: server.url, headers: {} })
const signal = () => new AbortController().signal

describe('k6 runner with a stand-in k6 binary', () => {
  it('finds k6 on PATH or at a configured path, and nothing elsewhere', async () => {
    expect(await findK6(undefined, { PATH: k6.dir })).toBe(k6.binary)
    expect(await findK6(k6.binary, { PATH: '' })).toBe(k6.binary)
    expect(await findK6(undefined, { PATH: os.tmpdir() + '/nowhere' })).toBeUndefined()
  })

  it('runs the generated script against the target and reads points and summary', async () => {
    process.env.STANDIN_MODE = 'ok'
    const result = await runK6Segment(spec(), target(), { k6: k6.binary, durationMs: 1000, signal: signal() })
    expect(result.exitCode).toBe(0)
    const m = result.samples!.toMetrics('k6', ['p(95)', 'count'])
    expect(m.metrics.http_reqs).toMatchObject({ values: { count: 20 } })
    expect(m.metrics['http_reqs{name:lookup}']).toMatchObject({ values: { count: 5 } })
    expect(result.summary?.engineThresholds).toEqual({ http_req_duration: { 'p(95)<1000': true } })
    expect(server.hits.get('/products/tea')).toBeGreaterThanOrEqual(5)
    const seen = JSON.parse(readFileSync(argsFile, 'utf8'))
    expect(seen.env.VIGIL_BASE_URL).toBe(server.url)
    expect(seen.args).toContain('--blacklist-ip')
    expect(seen.script).toContain('executor": "constant-vus')
  })

  it('treats exit 99 (thresholds failed) as a result, not an error', async () => {
    process.env.STANDIN_MODE = 'thresholds-failed'
    const result = await runK6Segment(spec(), target(), { k6: k6.binary, durationMs: 1000, signal: signal() })
    expect(result.exitCode).toBe(99)
    expect(result.summary?.engineThresholds).toEqual({ http_req_duration: { 'p(95)<1000': false } })
  })

  it('reports another exit code with the tail of k6 output', async () => {
    process.env.STANDIN_MODE = 'crash'
    await expect(
      runK6Segment(spec(), target(), { k6: k6.binary, durationMs: 1000, signal: signal() }),
    ).rejects.toMatchObject({
      code: 'VIGIL_LOAD_K6_RUN',
      message: expect.stringMatching(/k6 exited with code 107/),
      logTail: ['ERRO[0000] could not initialize script'],
    })
  })

  it('kills k6 when it outlives its bound', async () => {
    process.env.STANDIN_MODE = 'hang'
    await expect(
      runK6Segment(spec(), target(), { k6: k6.binary, durationMs: 100, graceMs: 400, signal: signal() }),
    ).rejects.toThrow(/k6 did not finish within/)
  })

  it('selects k6 when it is on PATH, and explains how to install it when engine: k6 has none', async () => {
    expect((await selectEngine(spec(), { PATH: k6.dir })).name).toBe('k6')
    const auto = await selectEngine(spec(), { PATH: '' })
    expect(auto).toMatchObject({
      name: 'builtin',
      note: expect.stringMatching(/k6 not found on PATH; the built-in engine/),
    })
    await expect(selectEngine({ ...spec(), engine: 'k6' }, { PATH: '' })).rejects.toMatchObject({
      code: 'VIGIL_LOAD_K6_NOT_FOUND',
      message: expect.stringMatching(/install k6/),
    })
  })
})
