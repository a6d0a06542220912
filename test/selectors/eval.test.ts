import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  evaluate,
  loadLabelFile,
  loadLabelledChanges,
  loadLabelledSet,
  renderComparison,
  renderEvalReport,
  scoreChange,
  totalsOf,
} from '../../selectors/eval.js'
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
write('badmay.patch', modify('x.js', ['a'], ['b']))
write('badmay.expect.json', JSON.stringify({ plans: [], may: 'smoke' }))
write('docs.patch', modify('README.md', ['a'], ['b']))
write('docs.expect.json', JSON.stringify({ plans: [], may: ['smoke', 'checkout-load', 'gone-plan'] }))

describe('evaluation on labelled changes', () => {
  it('pairs diffs with labels and reports every unpaired or broken file', async () => {
    const { changes, problems } = await loadLabelledChanges(dir)
    expect(changes.map((c) => [c.name, path.basename(c.diffFile), c.expected, c.may])).toEqual([
      ['catalog', 'catalog.diff', ['catalog-contract', 'checkout-load', 'ghost-plan', 'smoke'], []],
      ['docs', 'docs.patch', [], ['checkout-load', 'gone-plan', 'smoke']],
      ['orders', 'orders.patch', ['orders-contract', 'smoke'], []],
    ])
    expect(changes[2]?.description).toBe('orders change')
    expect(problems.map((p) => path.basename(p.split(':')[0]!))).toEqual([
      'badmay.expect.json',
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
      may: [],
      selected: ['a', 'b', 'x'],
      misses: ['c', 'd'],
      acceptable: [],
      falsePicks: ['x'],
      degraded: false,
      precision: 0.667,
      recall: 0.5,
      f1: 0.571,
    })
    // A may plan is acceptable: it counts for precision, never for recall, and is not a false pick.
    expect(scoreChange('c', ['a', 'b', 'c', 'd'], record, ['x', 'a'])).toMatchObject({
      may: ['x'],
      acceptable: ['x'],
      falsePicks: [],
      precision: 1,
      recall: 0.5,
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
    expect(report.unknownLabels).toEqual([
      { change: 'catalog', plan: 'ghost-plan', label: 'must' },
      { change: 'docs', plan: 'gone-plan', label: 'may' },
    ])
    const catalogChange = report.changes.find((c) => c.name === 'catalog')!
    expect(catalogChange.misses).toContain('ghost-plan')
    expect(report.totals).toMatchObject({ changes: 3, expected: 6, changesWithMust: 2 })
    const docs = report.changes.find((c) => c.name === 'docs')!
    expect(docs).toMatchObject({ expected: [], recall: 1, misses: [] })
    expect(docs.acceptable).toEqual(['smoke'])
    // The floor: every catalog plan for every change, scored on the same labels.
    expect(report.catalogSize).toBe(catalog.length)
    expect(report.runEverything).toMatchObject({
      changes: 3,
      selected: 3 * catalog.length,
      plansPerChange: catalog.length,
      recall: 0.833, // ghost-plan is not in the catalog
      changesWithMiss: 1,
    })
    expect(report.totals.truePositives).toBe(
      report.totals.selected - report.totals.acceptable - report.totals.falsePicks,
    )
    expect(report.totals.recall).toBe(Math.round((report.totals.truePositives / 6) * 1000) / 1000)
    const text = renderEvalReport(report)
    expect(text).toMatch(/^selector rules on 3 labelled change\(s\), 4 plan\(s\)/)
    expect(text).toMatch(/^rules\s+\d\.\d\d\s+\d\.\d\d\s+\d\.\d\d\s+\d+\.\d\d\s+\d of 2$/m)
    expect(text).toMatch(/^run everything\s+0\.83\s+0\.88\s+0\.58\s+4\.00\s+1 of 2$/m)
    expect(text).toMatch(/^catalog\s+\d\.\d\d\s+\d\.\d\d\s+\d\.\d\d\s+.*ghost-plan/m)
    expect(text).toContain('label names an unknown plan: catalog expects ghost-plan')
    expect(text).toContain('label names an unknown plan: docs allows gone-plan')
    expect(text).toMatch(/note: .*unlabelled\.patch: no unlabelled\.expect\.json next to it; skipped/)
  })
})

describe('a labels file (commits of a project, diffs regenerated beside it)', () => {
  const sha = (n: number) => String(n).repeat(40).slice(0, 40)
  const setDir = path.join(dir, 'set')
  const labels = (changes: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      project: 'demo',
      repository: 'https://example.test/demo.git',
      diffs: 'diffs',
      regenerate: 'bash regenerate.sh',
      changes,
      ...extra,
    })
  const change = (n: number, must: string[], may: string[] = []) => ({
    sha: sha(n),
    subject: `change ${n}`,
    must,
    may,
    reason: 'why these plans must and may run',
  })
  mkdirSync(setDir)
  writeFileSync(
    path.join(setDir, 'labels.json'),
    labels([
      change(1, ['orders-contract'], ['smoke']),
      change(2, [], ['catalog-contract']),
      change(3, ['smoke'], ['smoke']),
      change(4, ['checkout-load']),
      change(1, ['smoke']),
    ]),
  )

  it('says how to regenerate the diffs when their folder is missing, and returns no change', async () => {
    const loaded = await loadLabelledSet(path.join(setDir, 'labels.json'))
    expect(loaded.changes).toEqual([])
    expect(loaded.missingDiffs).toEqual({ dir: path.join(setDir, 'diffs'), regenerate: 'bash regenerate.sh' })
  })

  it('pairs each commit with <diffs>/<sha>.patch, names it by its short sha, and reports what it skips', async () => {
    mkdirSync(path.join(setDir, 'diffs'), { recursive: true })
    for (const n of [1, 2, 3])
      writeFileSync(path.join(setDir, 'diffs', `${sha(n)}.patch`), modify('x.js', ['a'], ['b']))
    const { changes, problems, missingDiffs } = await loadLabelFile(path.join(setDir, 'labels.json'))
    expect(missingDiffs).toBeUndefined()
    expect(changes.map((c) => [c.name, c.description, c.expected, c.may])).toEqual([
      ['1111111', 'change 1', ['orders-contract'], ['smoke']],
      ['2222222', 'change 2', [], ['catalog-contract']],
      ['3333333', 'change 3', ['smoke'], []],
    ])
    expect(path.basename(changes[0]!.diffFile)).toBe(`${sha(1)}.patch`)
    expect(problems).toEqual([
      expect.stringContaining(`${sha(3)} lists smoke as both must and may`),
      expect.stringMatching(new RegExp(`${sha(4)}\\.patch: missing; skipped$`)),
      expect.stringContaining(`${sha(1)} is labelled twice; the first label is used`),
    ])
  })

  it('rejects a file that does not match its schema, naming the offending field', async () => {
    const bad = path.join(setDir, 'bad.json')
    writeFileSync(bad, labels([{ ...change(5, ['Not A Name']), sha: 'abc' }]))
    await expect(loadLabelFile(bad)).rejects.toThrow(
      /bad\.json: not a vigil labels file: .*\/changes\/0\/sha/,
    )
    writeFileSync(bad, labels([change(5, ['Not A Name'])]))
    await expect(loadLabelFile(bad)).rejects.toThrow(/\/changes\/0\/must\/0 must match pattern/)
    writeFileSync(bad, '{ "project": ')
    await expect(loadLabelFile(bad)).rejects.toThrow(/--eval .*bad\.json: cannot read the labels/)
  })

  it('totals report must-recall per change, plans per change and changes with a miss; a pending row says why', () => {
    const t = totalsOf([
      {
        name: 'a',
        expected: ['p', 'q'],
        may: [],
        selected: ['p'],
        misses: ['q'],
        acceptable: [],
        falsePicks: [],
        precision: 1,
        recall: 0.5,
        f1: 0.667,
      },
      {
        name: 'b',
        expected: ['p'],
        may: ['r'],
        selected: ['p', 'r', 's'],
        misses: [],
        acceptable: ['r'],
        falsePicks: ['s'],
        precision: 0.667,
        recall: 1,
        f1: 0.8,
      },
      {
        name: 'c',
        expected: [],
        may: [],
        selected: [],
        misses: [],
        acceptable: [],
        falsePicks: [],
        precision: 1,
        recall: 1,
        f1: 1,
      },
    ])
    expect(t).toMatchObject({
      changes: 3,
      expected: 3,
      selected: 4,
      truePositives: 2,
      acceptable: 1,
      falsePicks: 1,
      recall: 0.667,
      precision: 0.75,
      recallPerChange: 0.75,
      changesWithMust: 2,
      changesWithMiss: 1,
      plansPerChange: 1.333,
    })
    expect(totalsOf([]).recallPerChange).toBeNull()
    const lines = renderComparison([
      { label: 'rules', totals: t },
      { label: 'rules + impact map', pending: 'no map yet' },
    ])
    expect(lines[2]).toMatch(/^rules\s+0\.67\s+0\.75\s+0\.75\s+1\.33\s+1 of 2$/)
    expect(lines[3]).toMatch(/^rules \+ impact map\s+not measured: no map yet$/)
  })
})
