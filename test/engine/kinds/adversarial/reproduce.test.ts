/**
 * Reproduce lines are real commands: each is run by sh (with curl) against a loopback server, which must
 * receive exactly the bytes the case sent — for short JSON, a 1 MiB string, deep nesting and invalid UTF-8.
 */
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redactor } from '../../../../engine/http/redact.js'
import { clipRecorded, reproduceCommand } from '../../../../engine/kinds/adversarial/reproduce.js'

const sh = promisify(execFile)
let url: string
let received: Array<{ method: string; body: Buffer; type: string | undefined }> = []
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    received.push({
      method: req.method ?? '',
      body: Buffer.concat(chunks),
      type: req.headers['content-type'],
    })
    res.end('ok')
  })
})
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const redactor = new Redactor({ secrets: ['alice-token'] })
const request = (body: string) => ({
  method: 'POST',
  url,
  headers: { 'content-type': 'application/json' },
  body,
})

async function replay(command: string): Promise<Buffer> {
  received = []
  await sh('sh', ['-c', command], { timeout: 30_000, maxBuffer: 4 * 1024 * 1024 })
  expect(received).toHaveLength(1)
  expect(received[0]!.method).toBe('POST')
  expect(received[0]!.type).toBe('application/json')
  return received[0]!.body
}

describe('reproduce lines', { timeout: 60_000 }, () => {
  it('puts a short printable body inline', async () => {
    const body = `{"items":[{"sku":"tea' OR '1'='1","quantity":0}]}`
    const command = reproduceCommand(request(body), body, redactor)
    expect(command).toMatch(/^curl -sS -i -X POST .* --data-binary '/)
    expect((await replay(command)).toString()).toBe(body)
  })

  it.each([
    ['a 1 MiB string', `{"items":[{"sku":"${'A'.repeat(1024 * 1024 - 40)}","quantity":1}]}`],
    ['50,000 nested arrays', `${'['.repeat(50_000)}${']'.repeat(50_000)}`],
    [
      'invalid UTF-8 and control characters',
      Buffer.concat([Buffer.from('{"a":"x'), Buffer.from([0xff, 0xfe, 0x00, 0x0d]), Buffer.from('"}')]),
    ],
  ])('rebuilds %s through a short pipeline', async (_what, body) => {
    const recorded = request(Buffer.from(body).toString('utf8'))
    const command = reproduceCommand(recorded, body, redactor)
    expect(command.length).toBeLessThan(1000)
    expect(command).toMatch(/\| curl -sS -i -X POST .* --data-binary @-$/)
    expect((await replay(command)).equals(Buffer.from(body))).toBe(true)
  })

  it('redacts secrets from the body, and clips long bodies in evidence', () => {
    const body = '{"note":"alice-token"}'
    expect(reproduceCommand(request(body), body, redactor)).toContain('[REDACTED]')
    expect(reproduceCommand(request(body), body, redactor)).not.toContain('alice-token')
    const clipped = clipRecorded(request('x'.repeat(5000)))
    expect(clipped.body).toBe(`${'x'.repeat(2048)}… (5000 characters)`)
  })
})
