/**
 * The contract kind against real loopback servers, for what learned noise must still keep (presence,
 * JSON type, format class) and for declared status transitions. Each case names the findings it must
 * produce (RuleTester style); `noise-learned` information is left out.
 */
import { afterEach, describe, expect, it } from 'vitest'
import contract from '../../../../engine/kinds/contract/kind.js'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import type { ContractParams } from '../../../../engine/kinds/contract/params.js'
import { renderMessage } from '../../../../engine/executors/local/check-runner.js'
import { createCheckContext } from '../../../support/check-context.js'
import { startServer, type Handler, type TestServer } from './servers.js'

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

interface Case {
  name: string
  baseline: Handler
  candidate: Handler
  params?: Partial<ContractParams>
  /** [messageId, severity, pointer] of every finding but noise-learned, in order. */
  findings: Array<[string, string, string]>
  /** Messages that must appear, in full. */
  messages?: string[]
}

async function run(c: Pick<Case, 'baseline' | 'candidate' | 'params'>): Promise<ReportDescriptor[]> {
  const baseline = await startServer(c.baseline)
  const candidate = await startServer(c.candidate)
  servers.push(baseline, candidate)
  const t = createCheckContext<ContractParams>({
    kind: contract,
    params: { request: 'GET /things/1', compare: 'baseline', ...c.params },
    candidate: { services: { api: candidate.url } },
    baseline: { services: { api: baseline.url } },
  })
  try {
    await t.run()
  } finally {
    await t.close()
  }
  return t.findings.filter((f) => f.messageId !== 'noise-learned')
}

const message = (d: ReportDescriptor) => renderMessage(contract.meta.messages[d.messageId!] ?? '', d.data)

async function expectCase(c: Case) {
  const findings = await run(c)
  expect(findings.map((f) => [f.messageId, f.severity ?? 'error', f.pointer])).toEqual(c.findings)
  for (const m of c.messages ?? []) expect(findings.map(message)).toContain(m)
  for (const f of findings) expect(message(f)).not.toMatch(/\{\{/)
}

/** A server whose generated values come from `make(n)` for its n-th call. */
function generated(
  make: (n: number) => Record<string, unknown>,
  headers?: (n: number) => Record<string, string>,
): Handler {
  let n = 0
  return () => {
    n++
    return { body: { name: 'tea', ...make(n) }, ...(headers ? { headers: headers(n) } : {}) }
  }
}
const hex4 = (n: number) => (0xa000 + n * 0x111).toString(16)
const base64url11 = (n: number) => `Xk3_9aQ-bZ${n % 10}`

describe('contract: learned noise keeps its class', () => {
  const cases: Case[] = [
    {
      name: 'ids that stay 4 hex characters are noise, nothing more',
      baseline: generated((n) => ({ id: hex4(n) })),
      candidate: generated((n) => ({ id: hex4(n + 50) })),
      findings: [],
    },
    {
      name: 'ids that became 11 base64url characters are a warning by default',
      baseline: generated((n) => ({ id: hex4(n) })),
      candidate: generated((n) => ({ id: base64url11(n) })),
      findings: [['noise-class-changed', 'warning', '/id']],
      messages: [
        'The field /id differs between baseline calls, so its values are not compared, but its class changed: baseline a hex string of 4 characters ("a111"), candidate a base64url string of 11 characters ("Xk3_9aQ-bZ1").',
      ],
    },
    {
      name: 'with noiseClass: error, breaking',
      baseline: generated((n) => ({ id: hex4(n) })),
      candidate: generated((n) => ({ id: base64url11(n) })),
      params: { compare: { noiseClass: 'error' } },
      findings: [['noise-class-changed', 'error', '/id']],
    },
    {
      name: 'with noiseClass: ignore, silent',
      baseline: generated((n) => ({ id: hex4(n) })),
      candidate: generated((n) => ({ id: base64url11(n) })),
      params: { compare: { noiseClass: 'ignore' } },
      findings: [],
    },
    {
      name: 'a JSON type change of a noisy field is breaking',
      baseline: generated((n) => ({ id: 1000 + n })),
      candidate: generated((n) => ({ id: `${1000 + n}` })),
      findings: [['type-changed', 'error', '/id']],
      messages: ['Field /id changed type from number to string: baseline 1001, candidate "1001".'],
    },
    {
      name: 'a noisy field that became null is breaking',
      baseline: generated((n) => ({ at: `2030-01-0${n}T00:00:00Z` })),
      candidate: generated(() => ({ at: null })),
      findings: [['became-nullable', 'error', '/at']],
    },
    {
      name: 'a noisy field removed from every element is breaking, counted',
      baseline: generated((n) => ({
        items: [
          { sku: 'a', ref: n },
          { sku: 'b', ref: n + 1 },
        ],
      })),
      candidate: generated(() => ({ items: [{ sku: 'a' }, { sku: 'b' }] })),
      findings: [['field-removed', 'error', '/items/0/ref']],
      messages: ['Field /items/*/ref was removed (2 places, e.g. /items/0/ref).'],
    },
    {
      name: 'integer counters that became fractional',
      baseline: generated((n) => ({ score: n })),
      candidate: generated((n) => ({ score: n + 0.5 })),
      findings: [['noise-class-changed', 'warning', '/score']],
    },
    {
      name: 'a timestamp that became epoch seconds in a string',
      baseline: generated((n) => ({ at: `2030-01-0${n}T00:00:00Z` })),
      candidate: generated((n) => ({ at: String(1893456000 + n) })),
      findings: [['noise-class-changed', 'warning', '/at']],
    },
    {
      name: 'a counter growing past 9999 keeps its band',
      baseline: generated((n) => ({ no: String(9997 + n) })),
      candidate: generated((n) => ({ no: String(10_000 + n) })),
      findings: [],
    },
    {
      name: 'declared ignores stay fully ignored, class and all',
      baseline: generated((n) => ({ id: hex4(n) })),
      candidate: generated(() => ({ id: 42 })),
      params: { compare: { ignore: ['/id'] } },
      findings: [],
    },
    {
      name: 'a noisy header that changed class',
      baseline: generated(
        () => ({}),
        (n) => ({ 'x-build': hex4(n) }),
      ),
      candidate: generated(
        () => ({}),
        (n) => ({ 'x-build': `build-${n} of today` }),
      ),
      findings: [['noise-class-changed', 'warning', 'header:x-build']],
      messages: [
        'The header x-build differs between baseline calls, so its values are not compared, but its class changed: baseline a hex string of 4 characters ("a111"), candidate a string of 16 characters ("build-1 of today").',
      ],
    },
    {
      name: 'a noisy header every baseline call sends, gone from the candidate',
      baseline: generated(
        () => ({}),
        (n) => ({ 'x-build': hex4(n) }),
      ),
      candidate: generated(() => ({})),
      findings: [['header-removed', 'warning', 'header:x-build']],
    },
  ]
  it.each(cases)('$name', async (c) => {
    await expectCase(c)
  })
})

describe('contract: declared status transitions', () => {
  const answer =
    (status: number): Handler =>
    () => ({ status, body: { error: 'x' } })
  const cases: Case[] = [
    {
      name: '404 → 400 is breaking by default, and the finding says how to accept it',
      baseline: answer(404),
      candidate: answer(400),
      params: { expect: { status: '4xx' } },
      findings: [['status-changed', 'error', 'status']],
      messages: [
        "Status changed from 404 to 400. If the change is intended, accept it with compare: { allowStatus: ['404->400'] }.",
      ],
    },
    {
      name: 'a declared transition is information',
      baseline: answer(404),
      candidate: answer(400),
      params: { expect: { status: '4xx' }, compare: { allowStatus: ['404->400'] } },
      findings: [['status-change-accepted', 'info', 'status']],
      messages: ['Status changed from 404 to 400, accepted by allowStatus 404->400.'],
    },
    {
      name: 'a class transition accepts any code of the class',
      baseline: answer(502),
      candidate: answer(503),
      params: { expect: { status: '5xx' }, compare: { allowStatus: ['5xx->503'] } },
      findings: [['status-change-accepted', 'info', 'status']],
    },
    {
      name: 'the reverse transition is not accepted; the hint keeps what is declared',
      baseline: answer(400),
      candidate: answer(404),
      params: { expect: { status: '4xx' }, compare: { allowStatus: ['404->400'] } },
      findings: [['status-changed', 'error', 'status']],
      messages: [
        "Status changed from 400 to 404. If the change is intended, accept it by adding allowStatus: ['404->400', '400->404'] to the request's compare mapping.",
      ],
    },
  ]
  it.each(cases)('$name', async (c) => {
    await expectCase(c)
  })

  it('puts the YAML in the evidence details, for machines', async () => {
    const [finding] = await run({
      baseline: answer(404),
      candidate: answer(400),
      params: { expect: { status: '4xx' } },
    })
    expect(finding?.evidence?.details?.accept).toBe("compare: { allowStatus: ['404->400'] }")
  })
})
