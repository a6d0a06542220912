import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { VerdictSelection } from '../../engine/verdict.js'
import {
  SelectionRecordError,
  parseDiff,
  parseSelectionRecord,
  readSelectionRecord,
  select,
  toVerdictSelection,
} from '../../selectors/index.js'
import { renderSelection } from '../../selectors/render.js'
import { catalog, modify, options } from './fixtures.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-select-record-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function record() {
  const text =
    modify('orders/server.js', ['a'], ['b']) +
    'diff --git a/img.png b/img.png\nindex 1..2 100644\nBinary files a/img.png and b/img.png differ\n'
  return select({
    plans: catalog,
    diff: parseDiff(text),
    source: { kind: 'file', file: 'x.patch' },
    selector: 'rules',
    options,
  })
}

describe('selection record', () => {
  it('validates against its published schema and round-trips through a file', async () => {
    const value = await record()
    expect(parseSelectionRecord(JSON.parse(JSON.stringify(value)), 'inline')).toEqual(value)
    const file = path.join(dir, 'record.json')
    writeFileSync(file, JSON.stringify(value))
    expect(await readSelectionRecord(file)).toEqual(value)
  })

  it('rejects files that are missing, not JSON, or off the schema, naming the file', async () => {
    await expect(readSelectionRecord(path.join(dir, 'nope.json'))).rejects.toThrow(
      /nope\.json: cannot read the selection record/,
    )
    const bad = path.join(dir, 'bad.json')
    writeFileSync(bad, '{')
    await expect(readSelectionRecord(bad)).rejects.toThrow(SelectionRecordError)
    await expect(readSelectionRecord(bad)).rejects.toThrow(/bad\.json: invalid JSON/)
    const value = { ...(await record()), plans: [{ name: 'x', source: 'magic', reason: 'r' }] }
    writeFileSync(bad, JSON.stringify(value))
    await expect(readSelectionRecord(bad)).rejects.toThrow(
      /bad\.json: not a vigil selection record: \/plans\/0\/source must be equal to one of the allowed values/,
    )
    writeFileSync(bad, JSON.stringify({ ...(await record()), schemaVersion: 2 }))
    await expect(readSelectionRecord(bad)).rejects.toThrow(/\/schemaVersion must be equal to constant/)
  })

  it('derives the verdict selection', async () => {
    const value = await record()
    const selection: VerdictSelection = toVerdictSelection({
      ...value,
      degraded: true,
      degradedReason: 'API down',
      model: 'm',
    })
    expect(selection).toEqual({
      selector: 'rules',
      model: 'm',
      degraded: true,
      degradedReason: 'API down',
      diffHash: value.diff.hash,
      plans: value.plans.map(({ name, source, reason }) => ({ name, source, reason })),
    })
  })

  it('renders plans with source and reason, and says clearly when no plans apply', async () => {
    const text = renderSelection(await record())
    expect(text).toMatch(/^2 of 4 plans apply: selector rules \(--selector\)\./)
    expect(text).toContain('  M orders/server.js (+1 -1)')
    expect(text).toContain('  M img.png (binary)')
    expect(text).toMatch(/orders-contract\s+paths\s+paths orders\/\*\* matched orders\/server\.js/)
    expect(text).toMatch(/Not selected:\n\s+catalog-contract\s+rules/)
    const none = await select({
      plans: catalog.filter((p) => !p.always),
      diff: parseDiff(''),
      source: { kind: 'stdin' },
      selector: 'rules',
      options,
    })
    expect(renderSelection(none)).toMatch(/^No plans apply to this change: selector rules/)
  })
})
