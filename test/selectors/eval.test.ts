import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { evaluate, loadLabelledChanges, renderEvalReport, scoreChange } from '../../selectors/eval.js'
import { parseDiff, select } from '../../selectors/index.js'
import type { SelectionRecord } from '../../selectors/index.js'
import { catalog, modify, options } from './fixtures.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-select-eval-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function write(file: string, content: string) {
  writeFileSync(path.join(dir, file), content)
}

write('orders.patch', modify('orders/server.js', ['a'], ['b']))
write(
  'orders.expect.json',
  JSON.stringify({ description: 'orders change', plans: ['orders-contract', 'smoke', 'orders-contract'] }),
)
write('catalog.diff', modify('catalog/server.js', ['a'], ['b']))
write(
  'catalog.expect.json',
  JSON.stringify({ plans: ['catalog-contract', 'checkout-load', 'smoke', 'ghost-plan'] }),
)
write('unlabelled.patch', modify('x.js', ['a'], ['b']))
write('orphan.expect.json', JSON.stringify({ plans: [] }))
write('broken.patch', modify('x.js', ['a'], ['b']))
write('broken.expect.json', '{ plans: ')
write('wrong.patch', modify('x.js', ['a'], ['b']))
write('wrong.expect.json', JSON.stringify({ plans: 'orders-contract' }))

describe('evaluation on labelled changes', () => {
  it('pairs diffs with labels and reports every unpaired or broken file', async () => {
    const { changes, problems } = await loadLabelledChanges(dir)
    expect(changes.map((c) => [c.name, path.basename(c.diffFile), c.expected])).toEqual([
      ['catalog', 'catalog.diff', ['catalog-contract', 'checkout-load', 'ghost-plan', 'smoke']],
      ['orders', 'orders.patch', ['orders-contract', 'smoke']],
    ])
    expect(changes[1]?.description).toBe('orders change')
    expect(problems.map((p) => path.basename(p.split(':')[0]!))).toEqual([
      'broken.expect.json',
      'unlabelled.patch',
      'wrong.expect.json',
      'orphan.expect.json',
    ])
    await expect(loadLabelledChanges(path.join(dir, 'nope'))).rejects.toThrow(
      /--eval .*nope: cannot read the folder/,
    )
  })

  it('scores precision, recall and F1 and names misses and false picks', () => {
    const record = {
      plans: [{ name: 'a' }, { name: 'b' }, { name: 'x' }],
      degraded: false,
    } as unknown as SelectionRecord
    expect(scoreChange('c', ['a', 'b', 'c', 'd'], record)).toEqual({
      name: 'c',
      expected: ['a', 'b', 'c', 'd'],
      selected: ['a', 'b', 'x'],
      misses: ['c', 'd'],
      falsePicks: ['x'],
      degraded: false,
      precision: 0.667,
      recall: 0.5,
      f1: 0.571,
    })
    const none = { plans: [], degraded: false } as unknown as SelectionRecord
    expect(scoreChange('docs', [], none)).toMatchObject({ precision: 1, recall: 1, f1: 1 })
    expect(scoreChange('miss', ['a'], none)).toMatchObject({ precision: 1, recall: 0, f1: 0 })
  })

  it('runs the rules selector over the folder with micro-averaged totals and a readable table', async () => {
    const { changes, problems } = await loadLabelledChanges(dir)
    const report = await evaluate({
      changes,
      problems,
      catalog: new Set(catalog.map((p) => p.name)),
      selectFor: async (change) => {
        const { readFile } = await import('node:fs/promises')
        const diff = parseDiff(await readFile(change.diffFile, 'utf8'))
        return select({
          plans: catalog,
          diff,
          source: { kind: 'patch', file: change.diffFile },
          selector: 'rules',
          options,
        })
      },
    })
    expect(report.selector).toBe('rules')
    expect(report.unknownLabels).toEqual([{ change: 'catalog', plan: 'ghost-plan' }])
    const catalogChange = report.changes.find((c) => c.name === 'catalog')!
    expect(catalogChange.misses).toContain('ghost-plan')
    expect(report.totals).toMatchObject({ changes: 2, expected: 6 })
    expect(report.totals.truePositives).toBe(report.totals.selected - report.totals.falsePicks)
    expect(report.totals.recall).toBe(Math.round((report.totals.truePositives / 6) * 1000) / 1000)
    const text = renderEvalReport(report)
    expect(text).toMatch(/^selector rules on 2 labelled change\(s\)/)
    expect(text).toMatch(/^catalog\s+\d\.\d\d\s+\d\.\d\d\s+\d\.\d\d\s+.*ghost-plan/m)
    expect(text).toContain('label names an unknown plan: catalog expects ghost-plan')
    expect(text).toMatch(/note: .*unlabelled\.patch: no unlabelled\.expect\.json next to it; skipped/)
  })
})
