import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../../../engine/errors.js'
import { startSandboxes } from '../../../../engine/sandboxes/index.js'
import { removeDir, tempDir, writeConfig } from '../helpers.js'

let server: Server
let base: string
let dir: string
beforeAll(async () => {
  server = createServer((_req, res) => res.end('ok'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  dir = tempDir()
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  removeDir(dir)
})

const start = (yaml: string) =>
  startSandboxes({ loaded: writeConfig(dir, yaml), signal: new AbortController().signal, log: () => {} })

describe('url sandbox', () => {
  it('points at running services, for the candidate and the baseline, with headers', async () => {
    const session = await start(`
allowHosts: [staging.example.com]
sandbox:
  provider: url
  default: api
  headers: { x-route: green }
  services:
    api: ${base}/
    docs: { url: "https://staging.example.com/docs" }
baseline:
  headers: { x-route: blue }
`)
    expect(session.candidate.url()).toBe(base)
    expect(session.candidate.url('docs')).toBe('https://staging.example.com/docs')
    expect(session.candidate.headers).toEqual({ 'x-route': 'green' })
    expect(session.baseline!.headers).toEqual({ 'x-route': 'blue' })
    expect(session.candidate.logs()).toEqual([])
    expect(await (await fetch(session.candidate.url(), { signal: AbortSignal.timeout(5_000) })).text()).toBe(
      'ok',
    )
    await session.stop()
  })

  it('refuses a host that is neither loopback nor allowed', async () => {
    const error = await start(`
sandbox:
  provider: url
  services:
    api: https://prod.example.com
`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(
      /vigil\.config\.yaml:5:5 sandbox\.services\.api: host prod\.example\.com is neither loopback nor in allowHosts/,
    )
  })

  it('rejects a value that is not an http(s) URL', async () => {
    await expect(
      start(`
sandbox:
  provider: url
  services:
    api: ftp://127.0.0.1/
`),
    ).rejects.toThrow(
      /vigil\.config\.yaml:5:5 sandbox\.services\.api must be an http:\/\/ or https:\/\/ URL, got "ftp:\/\/127\.0\.0\.1\/"$/,
    )
  })
})
