/** Sorting captured messages by who revealed the identifiers they carry first. */
import { describe, expect, it } from 'vitest'
import type { BrokerMessage } from '../../../../engine/clients/index.js'
import { attribute, identifiersOf } from '../../../../engine/kinds/event/attribute.js'

function message(payload: Record<string, unknown>, headers: Record<string, string> = {}): BrokerMessage {
  const text = JSON.stringify(payload)
  return {
    channel: 'order.created',
    payload,
    json: true,
    text,
    headers,
    key: 'k',
    atMs: 0,
    bytes: text.length,
  }
}

describe('identifiersOf', () => {
  it('keeps strings of eight characters or more with a digit, at any depth', () => {
    const ids = identifiersOf({
      id: 'ord_1a2b3c4d',
      owner: 'alice-and-bob',
      sku: 'tea',
      total: 1700,
      items: [{ ref: 'pay_00000001' }],
      createdAt: '2026-12-03T07:39:03.096Z',
    })
    expect([...ids].sort()).toEqual(['2026-12-03T07:39:03.096Z', 'ord_1a2b3c4d', 'pay_00000001'])
  })
})

describe('attribute', () => {
  const trigger = { ids: new Set(['ord_mine0001', '2026-12-03T07:00:00.001Z']), at: 10, mine: true }
  const other = { ids: new Set(['ord_other001']), at: 5, mine: false }

  it("sorts messages into the trigger's, other checks' and unknown", () => {
    const sorted = attribute(
      [
        message({ orderId: 'ord_mine0001' }),
        message({ orderId: 'ord_other001' }),
        message({ orderId: 'ord_nobody01' }),
        message({ note: 'no id at all' }),
      ],
      [trigger, other],
    )
    expect(sorted.mine.map((m) => m.payload)).toEqual([{ orderId: 'ord_mine0001' }])
    expect(sorted.others).toBe(1)
    expect(sorted.unknown).toHaveLength(2)
  })

  it('gives an identifier to the request that revealed it first: a later read does not take it', () => {
    // Another check listed the trigger's order after the trigger was answered.
    const reader = { ids: new Set(['ord_mine0001', 'ord_other001']), at: 20, mine: false }
    const sorted = attribute([message({ orderId: 'ord_mine0001' })], [trigger, other, reader])
    expect(sorted.mine).toHaveLength(1)
    // Revealed by another request before the trigger's answer: not the trigger's to claim.
    const earlier = { ids: new Set(['ord_mine0001']), at: 1, mine: false }
    expect(attribute([message({ orderId: 'ord_mine0001' })], [trigger, earlier]).others).toBe(1)
  })

  it('calls a message unknown when it carries both, or an identifier revealed twice at once', () => {
    const both = message({ orderId: 'ord_mine0001', parent: 'ord_other001' })
    expect(attribute([both], [trigger, other]).unknown).toHaveLength(1)
    const tie = { ids: new Set(['ord_mine0001']), at: 10, mine: false }
    const only = message({ orderId: 'ord_mine0001' })
    expect(attribute([only], [{ ...trigger, ids: new Set(['ord_mine0001']) }, tie]).unknown).toHaveLength(1)
  })

  it('tells two orders created in the same millisecond apart by the request that holds all a message carries', () => {
    // Another check's order was answered just before the trigger's; both answers carry the same createdAt,
    // which the earlier one revealed first. Later reads list both orders and reveal nothing first.
    const at = '2026-12-04T16:35:25.041Z'
    const mine = { ids: new Set(['ord_mine0001', at]), at: 10, mine: true }
    const theirs = { ids: new Set(['ord_other001', at]), at: 9, mine: false }
    const list = { ids: new Set(['ord_mine0001', 'ord_other001', at]), at: 11, mine: false }
    const sorted = attribute(
      [
        message({ orderId: 'ord_mine0001', createdAt: at }),
        message({ orderId: 'ord_other001', createdAt: at }),
      ],
      [mine, theirs, list],
    )
    expect(sorted.mine.map((m) => m.payload)).toEqual([{ orderId: 'ord_mine0001', createdAt: at }])
    expect(sorted.others).toBe(1)
    expect(sorted.unknown).toHaveLength(0)
    // A message that also carries an identifier the trigger's exchange does not hold is not claimed on it.
    const mixed = message({ orderId: 'ord_mine0001', createdAt: at, parent: 'ord_other001' })
    expect(attribute([mixed], [mine, theirs, list]).unknown).toHaveLength(1)
  })

  it('reads headers too', () => {
    const sorted = attribute([message({ ok: true }, { 'x-order': 'ord_mine0001' })], [trigger])
    expect(sorted.mine).toHaveLength(1)
  })
})
