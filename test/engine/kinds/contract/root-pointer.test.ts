import { describe, expect, it } from 'vitest'
import { compareResponses } from '../../../../engine/kinds/contract/compare.js'
import contract from '../../../../engine/kinds/contract/kind.js'
import { renderMessage } from '../../../../engine/executors/local/check-runner.js'

describe('a change at the root of the body', () => {
  it('is named (root) in the message, never an empty pointer', () => {
    const changes = compareResponses(
      { status: 200, headers: {}, body: { items: [] } },
      { status: 200, headers: {}, body: [{ id: 1 }] },
    )
    expect(changes).toHaveLength(1)
    const [change] = changes
    expect(change!.pointer).toBe('')
    const message = renderMessage(contract.meta.messages[change!.messageId]!, change!.data)
    expect(message).toMatch(/^Field \(root\) changed type from object to array/)
    expect(message).not.toContain('Field  ')
  })
})
