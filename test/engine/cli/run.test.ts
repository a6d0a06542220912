import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runVigil } from '../../support/cli.js'
import { describe, expect, it } from 'vitest'
import type { Verdict } from '../../../engine/verdict.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

const vigil = (args: string[]) =>
  runVigil(args, { cwd: root, env: { ...process.env, VIGIL_REQUESTER: 'ci-bot' } })

const shop = ['run', '--config', 'samples/shop/vigil.config.yaml', '--plan', 'checkout-flow']

describe('vigil run', () => {
  it('prints a failing verdict naming the step, its request and a curl line, and exits 1', async () => {
    const { code, stdout } = await vigil([...shop, '--patch', 'samples/shop/changes/env-var-rename.patch'])
    expect(code).toBe(1)
    expect(stdout).toContain('Step "alice creates an order": POST /orders expected status 201')
    expect(stdout).toMatch(/curl -sS -i -X POST http:\/\/127\.0\.0\.1:\d+\/orders/)
    expect(stdout).not.toContain('alice-token')
  })

  it('passes the clean shop with --json on stdout and exit 0', async () => {
    const { code, stdout, stderr } = await vigil([...shop, '--json', '--no-baseline', '--seed', '5'])
    expect(code).toBe(0)
    const verdict = JSON.parse(stdout) as Verdict
    expect(verdict).toMatchObject({ status: 'pass', exitCode: 0, identity: { requester: 'ci-bot', seed: 5 } })
    expect(stderr).toContain('checkout-flow')
  })

  it('rejects a bad option value with exit 2', async () => {
    const { code, stderr } = await vigil([...shop, '--concurrency', 'zero'])
    expect(code).toBe(2)
    expect(stderr).toContain('--concurrency zero: expected an integer >= 1')
  })
})
