/**
 * e2e `sides: both` against real loopback servers: the steps run on the baseline and the candidate, each
 * with its own captures; a failure both share is pre-existing (a warning), one only the candidate has is
 * new (an error), one only the baseline has is information.
 */
import { describe, expect, it } from 'vitest'
import e2e, { type E2eParams } from '../../../../engine/kinds/e2e/kind.js'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import { PRE_EXISTING_NOTE, toFinding } from '../../../../engine/executors/local/check-runner.js'
import { Redactor } from '../../../../engine/http/redact.js'
import { runOnServers, type Handler } from '../contract/servers.js'

/** A tiny order service: `prefix` names its ids; `broken` lists the paths that answer 500. */
function orders(prefix: string, broken: string[] = []): Handler {
  let next = 0
  const known = new Set<string>()
  return ({ method, path }) => {
    const key = `${method} ${path.replace(/\/[bc]-\d+$/, '/:id')}`
    if (broken.includes(key)) return { status: 500, body: { error: 'boom' } }
    if (method === 'POST' && path === '/orders') {
      const id = `${prefix}-${++next}`
      known.add(id)
      return { status: 201, body: { id } }
    }
    const m = /^\/orders\/(.+)$/.exec(path)
    if (method === 'GET' && m) return known.has(m[1]!) ? { body: { id: m[1] } } : { status: 404, body: {} }
    if (path === '/health') return { body: { ok: true } }
    return { status: 404, body: {} }
  }
}

const flow: E2eParams['steps'] = [
  {
    name: 'create',
    request: { method: 'POST', path: '/orders', json: {} },
    expect: { status: 201 },
    capture: { id: '/id' },
  },
  { name: 'read', request: 'GET /orders/{{id}}', expect: { status: 200, json: { '/id': '{{id}}' } } },
]

const run = (baseline: Handler | undefined, candidate: Handler, steps = flow) =>
  runOnServers<E2eParams>(e2e, { sides: 'both', steps }, candidate, baseline)

const summary = (findings: ReportDescriptor[]) =>
  findings.map((f) => [f.messageId, f.severity ?? 'error', f.step, f.preExisting ?? false])

describe('e2e sides: both', () => {
  const cases: Array<{
    name: string
    baseline: Handler
    candidate: Handler
    steps?: E2eParams['steps']
    findings: Array<[string, string, string, boolean]>
  }> = [
    {
      name: 'both sides pass, each with its own captures',
      baseline: orders('b'),
      candidate: orders('c'),
      findings: [],
    },
    {
      name: 'a step failing on both sides is pre-existing: a warning',
      baseline: orders('b', ['GET /orders/:id']),
      candidate: orders('c', ['GET /orders/:id']),
      findings: [['status', 'warning', 'read', true]],
    },
    {
      name: 'a step failing only on the candidate is new: an error',
      baseline: orders('b'),
      candidate: orders('c', ['GET /orders/:id']),
      findings: [['status', 'error', 'read', false]],
    },
    {
      name: 'a step failing only on the baseline is information',
      baseline: orders('b', ['GET /orders/:id']),
      candidate: orders('c'),
      findings: [['baseline-only', 'info', 'read', false]],
    },
    {
      name: 'pre-existing first step, the later steps not run on either side',
      baseline: orders('b', ['POST /orders']),
      candidate: orders('c', ['POST /orders']),
      findings: [
        ['status', 'warning', 'create', true],
        ['not-run', 'info', 'read', false],
      ],
    },
    {
      name: 'a step the baseline never reached counts as new, and says why',
      baseline: orders('b', ['POST /orders']),
      candidate: orders('c', ['GET /orders/:id']),
      findings: [
        ['status', 'error', 'read', false],
        ['baseline-stopped', 'info', 'read', false],
        ['baseline-only', 'info', 'create', false],
      ],
    },
    {
      name: 'a run: step sees its own side (BASE_URL, VIGIL_SIDE); failing on both is pre-existing',
      baseline: orders('b', ['GET /health']),
      candidate: orders('c', ['GET /health']),
      steps: [
        {
          name: 'probe',
          run: [
            process.execPath,
            '-e',
            `fetch(process.env.BASE_URL + '/health').then((r) => process.exit(r.ok && ['baseline', 'candidate'].includes(process.env.VIGIL_SIDE) ? 0 : 3))`,
          ],
        },
      ],
      findings: [['run-failed', 'warning', 'probe', true]],
    },
    {
      name: 'a run: step failing only on the candidate is new',
      baseline: orders('b'),
      candidate: orders('c', ['GET /health']),
      steps: [
        {
          name: 'probe',
          run: [
            process.execPath,
            '-e',
            `fetch(process.env.BASE_URL + '/health').then((r) => process.exit(r.ok ? 0 : 3))`,
          ],
        },
      ],
      findings: [['run-failed', 'error', 'probe', false]],
    },
  ]
  it.each(cases)('$name', async (c) => {
    const { findings } = await run(c.baseline, c.candidate, c.steps)
    expect(summary(findings.filter((f) => f.messageId !== 'run-passed'))).toEqual(c.findings)
  })

  it('sends each side its own requests, with its own captured ids', async () => {
    const { baseline, candidate } = await run(orders('b'), orders('c'))
    expect(baseline!.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /orders', 'GET /orders/b-1'])
    expect(candidate.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /orders', 'GET /orders/c-1'])
  })

  it('evidence names the side it was observed on', async () => {
    const { findings } = await run(orders('b', ['GET /orders/:id']), orders('c', ['GET /orders/:id']))
    expect(findings[0]!.evidence?.sandbox).toBe('candidate')
    const only = await run(orders('b', ['GET /orders/:id']), orders('c'))
    expect(only.findings[0]!.evidence?.sandbox).toBe('baseline')
  })

  it('without a baseline, runs the candidate and says every failure counts', async () => {
    const { findings } = await run(undefined, orders('c', ['GET /orders/:id']))
    expect(summary(findings)).toEqual([
      ['sides-without-baseline', 'info', undefined, false],
      ['status', 'error', 'read', false],
    ])
  })

  it('the verdict says a pre-existing failure is not the change’s', () => {
    const finding = toFinding(
      e2e,
      {
        messageId: 'status',
        severity: 'warning',
        preExisting: true,
        data: { step: 'read', request: 'GET /x', expected: 200, actual: 500 },
      },
      new Redactor(),
    )
    expect(finding).toMatchObject({ severity: 'warning', preExisting: true })
    expect(finding.message).toBe(`Step "read": GET /x expected status 200, got 500. ${PRE_EXISTING_NOTE}`)
  })
})
