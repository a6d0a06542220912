import { describe, expect, it } from 'vitest'
import { findingId, idOfFinding, pathTemplate } from '../../engine/findings/id.js'
import { logsFor } from '../../engine/findings/logs.js'
import { MIN_GROUP, mergeRepeats } from '../../engine/findings/repeats.js'
import type { Finding } from '../../engine/verdict.js'

const http = (url: string, method = 'GET'): Finding['evidence'] => ({
  transport: 'http',
  summary: [{ label: 'request', value: `${method} ${url}` }],
  request: { method, url, headers: {} },
})

describe('finding ids', () => {
  it('templates paths: ids, numbers, uuids and hex become {}, names and versions stay', () => {
    expect(pathTemplate('http://127.0.0.1:4001/orders/ord_1f2e3d4c5b/items/7?x=1')).toBe(
      '/orders/{}/items/{}',
    )
    expect(pathTemplate('http://127.0.0.1:9/v1/users/0c8e2d8a-5b9e-4b8e-9c55-0d3b7a1e2f44')).toBe(
      '/v1/users/{}',
    )
    expect(pathTemplate('http://127.0.0.1:9/blobs/deadbeefcafe/raw')).toBe('/blobs/{}/raw')
    expect(pathTemplate('/api/v2/products/tea')).toBe('/api/v2/products/tea')
  })

  it('does not change with ports, generated ids or values, only with what locates the finding', () => {
    const a: Finding = {
      message: 'Expected status 201, got 500.',
      messageId: 'status',
      severity: 'error',
      step: 'create',
      evidence: http('http://127.0.0.1:40001/orders/ord_aaaaaa111'),
    }
    const b: Finding = {
      ...a,
      message: 'Expected status 201, got 502.',
      actual: 502,
      evidence: http('http://127.0.0.1:51234/orders/ord_bbbbbb222'),
    }
    expect(idOfFinding('p', 'c', a)).toBe(idOfFinding('p', 'c', b))
    expect(idOfFinding('p', 'c', a)).toMatch(/^f[0-9a-f]{12}$/)
    for (const other of [
      idOfFinding('p2', 'c', a),
      idOfFinding('p', 'c2', a),
      idOfFinding('p', 'c', { ...a, step: 'read' }),
      idOfFinding('p', 'c', { ...a, messageId: 'json' }),
      idOfFinding('p', 'c', { ...a, pointer: '/id' }),
      idOfFinding('p', 'c', {
        ...a,
        evidence: http('http://127.0.0.1:40001/orders/ord_aaaaaa111', 'DELETE'),
      }),
      idOfFinding('p', 'c', { ...a, evidence: http('http://127.0.0.1:40001/carts/ord_aaaaaa111') }),
    ])
      expect(other).not.toBe(idOfFinding('p', 'c', a))
  })

  it("keeps a finding about the baseline apart from the candidate's (each side's measurement)", () => {
    const measured = (sandbox: string): Finding => ({
      message: `${sandbox}: 1953 requests`,
      messageId: 'measured',
      severity: 'info',
      evidence: { transport: 'http', sandbox } as Finding['evidence'],
    })
    const candidate = idOfFinding('p', 'c', measured('candidate'))
    expect(idOfFinding('p', 'c', measured('baseline'))).not.toBe(candidate)
    // A candidate finding's id is what it was before sides counted.
    expect(candidate).toBe(findingId({ plan: 'p', check: 'c', messageId: 'measured' }))
    expect(
      mergeRepeats(
        [measured('baseline'), measured('candidate')].map((f) => ({ ...f, id: idOfFinding('p', 'c', f) })),
      ),
    ).toHaveLength(2)
  })

  it('a finding without a message id is keyed by its message, numbers left out', () => {
    expect(findingId({ plan: 'p', check: 'c', message: 'took 901 ms' })).toBe(
      findingId({ plan: 'p', check: 'c', message: 'took 77 ms' }),
    )
    expect(findingId({ plan: 'p', check: 'c', message: 'took 901 ms' })).not.toBe(
      findingId({ plan: 'p', check: 'c', message: 'was slow' }),
    )
  })
})

describe('mergeRepeats', () => {
  const warning = (i: number, step = `GET /items/${i}`): Finding => ({
    id: `f${String(i).padStart(12, '0')}`,
    messageId: 'header-changed',
    message: `Header etag changed from "a${i}" to "b${i}".`,
    severity: 'warning',
    pointer: 'header:etag',
    step,
    evidence: {
      transport: 'http',
      summary: [{ label: 'request', value: `GET /items/${i}` }],
      excerpt: { label: 'body', text: 'x'.repeat(2000) },
      reproduce: `curl /items/${i}`,
    },
  })

  it('merges findings with the same id, keeping the first whole with a count and examples', () => {
    const same = { ...warning(1), id: 'fsame' }
    const merged = mergeRepeats([same, { ...same, message: 'second' }, { ...same, message: 'third' }])
    expect(merged).toHaveLength(1)
    expect(merged[0]!.message).toBe(same.message)
    expect(merged[0]!.evidence?.excerpt?.text).toHaveLength(2000)
    expect(merged[0]!.repeats).toEqual({
      count: 3,
      examples: [
        expect.objectContaining({ id: 'fsame', message: 'second', reproduce: 'curl /items/1' }),
        expect.objectContaining({ id: 'fsame', message: 'third' }),
      ],
    })
    // Examples carry no excerpt: that is what made verdicts big.
    expect(JSON.stringify(merged[0]!.repeats)).not.toContain('xxxx')
  })

  it(`merges the same message at the same place on ${MIN_GROUP} or more requests, at most 3 examples`, () => {
    const many = Array.from({ length: 500 }, (_, i) => warning(i))
    const merged = mergeRepeats(many)
    expect(merged).toHaveLength(1)
    expect(merged[0]!.repeats!.count).toBe(500)
    expect(merged[0]!.repeats!.examples.map((e) => e.id)).toEqual([many[1]!.id, many[2]!.id, many[3]!.id])
    expect(JSON.stringify(merged).length).toBeLessThan(JSON.stringify(many).length / 100)
  })

  it('keeps fewer repeats than that apart, and keeps the report order', () => {
    const error: Finding = { id: 'ferr', message: 'boom', severity: 'error', messageId: 'status' }
    const input = [warning(1), error, warning(2), warning(3)]
    expect(mergeRepeats(input)).toEqual(input)
    const four = [warning(1), error, warning(2), warning(3), warning(4)]
    const out = mergeRepeats(four)
    expect(out.map((f) => f.id)).toEqual([warning(1).id, 'ferr'])
  })
})

describe('logsFor', () => {
  const line = (t: string, text: string) => `2025-01-02T03:04:${t}Z stdout ${text}`
  const sandbox = {
    services: { orders: {}, catalog: {} },
    logs: (service?: string) =>
      service === 'orders'
        ? [
            '(3 earlier lines dropped)',
            line('05.000', 'before'),
            line('06.005', 'req-7 TypeError: boom'),
            line('06.050', 'after the answer'),
            line('07.000', 'later'),
          ]
        : [line('06.003', 'POST /lookup 200'), line('09.000', 'req-7 seen late')],
  }
  const evidence = (requestId?: string): Finding['evidence'] => ({
    transport: 'http',
    summary: [],
    window: {
      start: '2025-01-02T03:04:06.000Z',
      end: '2025-01-02T03:04:06.010Z',
      ...(requestId ? { requestId } : {}),
    },
  })

  it("takes each service's lines from the request's start to its end plus the grace", () => {
    expect(logsFor(evidence()!, sandbox, { graceMs: 100 })).toEqual({
      attribution: 'time-window',
      services: {
        catalog: [line('06.003', 'POST /lookup 200')],
        orders: [line('06.005', 'req-7 TypeError: boom'), line('06.050', 'after the answer')],
      },
    })
    expect(logsFor(evidence()!, sandbox, { graceMs: 0 })!.services.orders).toEqual([
      line('06.005', 'req-7 TypeError: boom'),
    ])
  })

  it('takes the lines carrying the request id when one correlates, wherever they fall', () => {
    expect(logsFor(evidence('req-7')!, sandbox)).toEqual({
      attribution: 'request-id',
      services: {
        catalog: [line('09.000', 'req-7 seen late')],
        orders: [line('06.005', 'req-7 TypeError: boom')],
      },
    })
    // An id no line carries falls back to the window.
    expect(logsFor(evidence('req-9')!, sandbox)!.attribution).toBe('time-window')
  })

  it("prefers a service's own time stamp to the time a line arrived (pipes deliver late)", () => {
    const stamped = {
      services: { api: {} },
      logs: () => [
        line('06.300', '2025-01-02T03:04:06.004Z GET /x 500'),
        line('06.005', '2025-01-02T03:04:05.900Z GET /earlier 200'),
        line('06.006', '[2025-01-02T03:04:06.006Z] TypeError: boom'),
      ],
    }
    expect(logsFor(evidence()!, stamped, { graceMs: 0 })!.services.api).toEqual([
      line('06.300', '2025-01-02T03:04:06.004Z GET /x 500'),
      line('06.006', '[2025-01-02T03:04:06.006Z] TypeError: boom'),
    ])
  })

  it('bounds lines per service, characters per line and per finding, and counts what it left out', () => {
    const noisy = {
      services: { api: {} },
      logs: () => Array.from({ length: 50 }, (_, i) => line('06.001', `${i} ${'y'.repeat(900)}`)),
    }
    const out = logsFor(evidence()!, noisy, { maxLines: 5, maxLineChars: 100, maxChars: 350 })!
    expect(out.services.api).toHaveLength(3)
    expect(out.services.api![0]!.endsWith('… (line cut)')).toBe(true)
    expect(out.omitted).toBe(47)
    expect(logsFor({ transport: 'http', summary: [] }, sandbox)).toBeUndefined()
  })
})
