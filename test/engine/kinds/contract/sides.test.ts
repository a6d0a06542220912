/**
 * contract `sides: both` against real loopback servers: the baseline's answers are held to the same
 * expectations, so a violation it shares is pre-existing (a warning) and one only the candidate has is new.
 */
import { describe, expect, it } from 'vitest'
import contract from '../../../../engine/kinds/contract/kind.js'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import type { ContractParams } from '../../../../engine/kinds/contract/params.js'
import { createCheckContext } from '../../../support/check-context.js'
import { runOnServers, startServer, type Handler } from './servers.js'

const schema = {
  type: 'object',
  required: ['id', 'name'],
  properties: { id: { type: 'string' }, name: { type: 'string' }, count: { type: 'integer' } },
}

/** An item service; `faults` picks what is wrong with it. */
function items(
  faults: { crash?: boolean; noName?: boolean; countText?: boolean; noSetup?: boolean } = {},
): Handler {
  return ({ method, path }) => {
    if (method === 'POST' && path === '/items')
      return faults.noSetup ? { status: 503, body: {} } : { status: 201, body: { id: 'i-1' } }
    if (faults.crash) return { status: 500, body: { error: 'boom' } }
    const body: Record<string, unknown> = { id: 'i-1', name: 'tea', count: faults.countText ? 'two' : 2 }
    if (faults.noName) delete body.name
    return { body }
  }
}

const run = (baseline: Handler | undefined, candidate: Handler, params: Partial<ContractParams> = {}) =>
  runOnServers<ContractParams>(
    contract,
    { sides: 'both', request: 'GET /items/i-1', expect: { status: 200, schema }, ...params },
    candidate,
    baseline,
  )

const summary = (findings: ReportDescriptor[]) =>
  findings.map((f) => [f.messageId, f.severity ?? 'error', f.pointer ?? '', f.preExisting ?? false])

describe('contract sides: both', () => {
  const cases: Array<{
    name: string
    baseline: Handler
    candidate: Handler
    params?: Partial<ContractParams>
    findings: Array<[string, string, string, boolean]>
  }> = [
    { name: 'both conform', baseline: items(), candidate: items(), findings: [] },
    {
      name: 'a status both sides get wrong is pre-existing',
      baseline: items({ crash: true }),
      candidate: items({ crash: true }),
      findings: [['status', 'warning', '', true]],
    },
    {
      name: 'a status only the candidate gets wrong is new',
      baseline: items(),
      candidate: items({ crash: true }),
      findings: [['status', 'error', '', false]],
    },
    {
      name: 'a schema violation both share is pre-existing; a new one is an error',
      baseline: items({ noName: true }),
      candidate: items({ noName: true, countText: true }),
      findings: [
        ['schema', 'error', '/count', false],
        ['schema', 'warning', '/name', true],
      ],
    },
    {
      name: 'a violation only the baseline has is not reported against the candidate',
      baseline: items({ noName: true }),
      candidate: items(),
      findings: [],
    },
    {
      name: 'setup failing on both sides is pre-existing, and stops the check',
      baseline: items({ noSetup: true }),
      candidate: items({ noSetup: true }),
      params: { setup: [{ request: 'POST /items', capture: { itemId: '/id' } }] },
      findings: [['setup-failed', 'warning', '', true]],
    },
    {
      name: 'setup failing only on the baseline is a warning; the candidate is still checked',
      baseline: items({ noSetup: true }),
      candidate: items({ countText: true }),
      params: { setup: [{ request: 'POST /items', capture: { itemId: '/id' } }] },
      findings: [
        ['setup-failed', 'warning', '', false],
        ['schema', 'error', '/count', false],
      ],
    },
  ]
  it.each(cases)('$name', async (c) => {
    const { findings } = await run(c.baseline, c.candidate, c.params)
    expect(summary(findings)).toEqual(c.findings)
  })

  it('sends an unsafe request to the baseline once, before the candidate', async () => {
    const { baseline, candidate, findings } = await run(items(), items(), {
      request: { method: 'POST', path: '/items', json: { name: 'tea' } },
      expect: { status: 201 },
    })
    expect(summary(findings)).toEqual([])
    expect(baseline!.calls.map((c) => c.method)).toEqual(['POST'])
    expect(candidate.calls.map((c) => c.method)).toEqual(['POST'])
  })

  it('a baseline that does not answer makes the same failure of the candidate pre-existing', async () => {
    const dead = await startServer(items())
    await dead.close()
    const t = createCheckContext<ContractParams>({
      kind: contract,
      params: { sides: 'both', request: 'GET /items/i-1' },
      candidate: { services: { api: dead.url } },
      baseline: { services: { api: dead.url } },
    })
    try {
      await t.run()
    } finally {
      await t.close()
    }
    expect(summary(t.findings)).toEqual([['request-failed', 'warning', '', true]])
  })

  it('with a comparison too, the baseline is called as the comparison needs', async () => {
    const { baseline, findings } = await run(items({ crash: true }), items({ crash: true }), {
      compare: 'baseline',
    })
    expect(summary(findings.filter((f) => f.messageId !== 'noise-learned'))).toEqual([
      ['status', 'warning', '', true],
    ])
    expect(baseline!.calls).toHaveLength(2)
  })

  it('without a baseline, says so and counts every violation', async () => {
    const { findings } = await run(undefined, items({ crash: true }))
    expect(summary(findings)).toEqual([
      ['sides-without-baseline', 'info', '', false],
      ['status', 'error', '', false],
    ])
  })
})
