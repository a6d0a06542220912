import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { packageVersion, probeVersion } from '../../../engine/sandboxes/version.js'

let server: http.Server
let url = ''
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-version-'))
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/version') return res.end('3.1.4 (build 77)\nsecond line\n')
    if (req.url === '/info') return res.end(JSON.stringify({ build: { version: '3.1.4' }, list: [1] }))
    res.statusCode = 404
    res.end('no')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('version probes', () => {
  const service = () => ({
    url,
    cwd: dir,
    env: { ...process.env, APP_VERSION: '9.9.9' } as Record<string, string>,
  })
  const signal = new AbortController().signal

  it('reads the first line of an HTTP answer, or a JSON pointer into it', async () => {
    await expect(probeVersion('/version', service(), signal)).resolves.toEqual({
      version: '3.1.4 (build 77)',
    })
    await expect(
      probeVersion({ http: '/info', pointer: '/build/version' }, service(), signal),
    ).resolves.toEqual({ version: '3.1.4' })
  })

  it('runs a command in the service folder with its environment', async () => {
    await expect(
      probeVersion({ command: ['node', '-e', 'console.log(process.env.APP_VERSION)'] }, service(), signal),
    ).resolves.toEqual({ version: '9.9.9' })
  })

  it('says why it got nothing, without throwing', async () => {
    await expect(probeVersion('/missing', service(), signal)).resolves.toEqual({
      error: 'GET /missing answered 404',
    })
    await expect(probeVersion({ http: '/info', pointer: '/list' }, service(), signal)).resolves.toEqual({
      error: 'GET /info has no version at /list',
    })
    await expect(probeVersion({ http: '/version', pointer: '/x' }, service(), signal)).resolves.toEqual({
      error: 'GET /version did not answer JSON',
    })
    await expect(probeVersion({ command: 'node -e process.exit(4)' }, service(), signal)).resolves.toEqual({
      error: 'node -e process.exit(4) exited with 4',
    })
  })

  it('reads name@version of the package.json in the folder', async () => {
    await expect(packageVersion(dir)).resolves.toBeUndefined()
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'api', version: '1.2.3' }))
    await expect(packageVersion(dir)).resolves.toBe('api@1.2.3')
  })
})
