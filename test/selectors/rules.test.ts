import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseDiff, select } from '../../selectors/index.js'
import { floorSelection, rulesSelection } from '../../selectors/rules.js'
import { catalog, modify, options, plan } from './fixtures.js'

const source = { kind: 'file' as const, file: 'change.patch' }

describe('rules selector', () => {
  it('selects by paths and always, with reasons naming the glob and the file', () => {
    const diff = parseDiff(modify('orders/server.js', ['a'], ['b']) + modify('orders/store.js', ['a'], ['b']))
    const result = rulesSelection(catalog, diff, 0.2)
    expect(result.selected.filter((p) => p.source !== 'rules')).toEqual([
      {
        name: 'orders-contract',
        source: 'paths',
        reason: 'paths orders/** matched orders/server.js (+1 more)',
      },
      { name: 'smoke', source: 'always', reason: 'always: true' },
    ])
    expect(result.degraded).toBe(false)
  })

  it('matches both sides of a rename, deletions by their old path, and directory patterns', () => {
    const plans = [
      plan('a', { paths: ['legacy/'] }),
      plan('b', { paths: ['docs/guide.md'] }),
      plan('c', { paths: ['docs'] }),
    ]
    const rename =
      'diff --git a/legacy/x.js b/modern/x.js\nsimilarity index 100%\nrename from legacy/x.js\nrename to modern/x.js\n'
    const deletion =
      'diff --git a/docs/guide.md b/docs/guide.md\ndeleted file mode 100644\n--- a/docs/guide.md\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n'
    const floor = floorSelection(plans, parseDiff(rename + deletion))
    expect(floor.map((p) => p.reason)).toEqual([
      'paths legacy/ matched legacy/x.js',
      'paths docs/guide.md matched docs/guide.md',
      'paths docs matched docs/guide.md',
    ])
  })

  it('names the glob that matched the file it names, whatever the order of the globs', () => {
    const plans = [plan('checkout', { paths: ['orders/**', 'payments/**', 'catalog/**'] })]
    const diff = parseDiff(
      modify('orders/server.js', ['a'], ['b']) + modify('catalog/server.js', ['a'], ['b']),
    )
    expect(floorSelection(plans, diff).map((p) => p.reason)).toEqual([
      'paths catalog/** matched catalog/server.js (+1 more)',
    ])
  })

  it('never matches files outside the config folder against paths', () => {
    const diff = parseDiff(modify('../engine/orders/x.ts', ['a'], ['b']))
    diff.files[0]!.outside = true
    expect(floorSelection([plan('p', { paths: ['**'] })], diff)).toEqual([])
  })

  it('suggests plans whose hint matches the changed lines, above the threshold, naming the terms', () => {
    const diff = parseDiff(
      modify(
        'services/pricing.js',
        ['  return latency'],
        ['  const pool = createPool({ size: 4 }) // load and latency', '  cache.set(order)'],
      ),
    )
    const result = rulesSelection(catalog, diff, 0.2)
    const load = result.selected.find((p) => p.name === 'checkout-load')
    expect(load?.source).toBe('rules')
    expect(load?.reason).toMatch(/^hint terms: .*latency.*\(score 0\.\d+\)$/)
    expect(load?.score).toBeGreaterThanOrEqual(0.2)
    const rejected = result.rejected.find((p) => p.name === 'orders-contract')
    expect(rejected).toMatchObject({
      source: 'rules',
      reason: expect.stringMatching(/^score 0\.\d+ below 0\.2 \(terms: orders\)$/),
    })
    const none = rulesSelection(catalog, parseDiff(modify('README.md', [], ['typo'])), 0.2)
    expect(none.rejected.find((p) => p.name === 'catalog-contract')?.reason).toBe('no path or term in common')
  })

  it('selects a plan whose own file the diff changes, when it knows the folder the diff is relative to', () => {
    const root = path.resolve('/repo/app')
    const plans = catalog.map((p) => ({
      ...p,
      dir: path.join(root, 'plans'),
      file: `app/plans/${p.name}.md`,
    }))
    const edit = parseDiff(modify('plans/checkout-load.md', ['duration: 2s'], ['duration: 3s']))
    expect(floorSelection(plans, edit, root)).toEqual([
      { name: 'checkout-load', source: 'paths', reason: 'the plan itself changed (plans/checkout-load.md)' },
      { name: 'smoke', source: 'always', reason: 'always: true' },
    ])
    // The selection record keeps it through the rules selector too.
    expect(rulesSelection(plans, edit, 0.2, root).selected.map((p) => p.name)).toContain('checkout-load')
    // Without the folder, or for a plan file elsewhere or deleted, the rule does not apply.
    expect(floorSelection(plans, edit).map((p) => p.name)).toEqual(['smoke'])
    expect(floorSelection(plans, edit, path.resolve('/repo')).map((p) => p.name)).toEqual(['smoke'])
    const deleted = parseDiff(
      'diff --git a/plans/checkout-load.md b/plans/checkout-load.md\ndeleted file mode 100644\nindex 1111111..0000000\n--- a/plans/checkout-load.md\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n',
    )
    expect(floorSelection(plans, deleted, root).map((p) => p.name)).toEqual(['smoke'])
  })

  it('counts the changed lines of prose (docs, READMEs) at half the weight of code', () => {
    const lines = ['  const pool = createPool({ size: 4 }) // load and latency', '  cache.set(order)']
    const score = (file: string) => {
      const result = rulesSelection(catalog, parseDiff(modify(file, [], lines)), 0.2)
      return [...result.selected, ...result.rejected].find((p) => p.name === 'checkout-load')?.score
    }
    const code = score('services/pricing.js')!
    for (const prose of ['docs/pricing.md', 'services/NOTES.txt', 'guide/pricing.rst', 'README.adoc']) {
      const docs = score(prose)!
      expect(docs, prose).toBeGreaterThan(0)
      expect(docs, prose).toBeLessThan(code * 0.75)
    }
  })

  it('applies the threshold: 1 selects nothing lexical, 0 selects every plan with a term in common', () => {
    const diff = parseDiff(modify('x.js', [], ['order total latency']))
    const strict = rulesSelection(catalog, diff, 1)
    expect(strict.selected.map((p) => p.source)).toEqual(['always'])
    const loose = rulesSelection(catalog, diff, 0)
    expect(loose.selected.map((p) => p.name)).toEqual(['checkout-load', 'orders-contract', 'smoke'])
  })

  it('selects nothing but the always plans for an empty diff, and is deterministic', async () => {
    const empty = await select({ plans: catalog, diff: parseDiff(''), source, selector: 'rules', options })
    expect(empty.plans.map((p) => p.name)).toEqual(['smoke'])
    const text = modify('orders/server.js', ['a'], ['payment order total'])
    const a = await select({
      plans: [...catalog].reverse(),
      diff: parseDiff(text),
      source,
      selector: 'rules',
      options,
    })
    const b = await select({ plans: catalog, diff: parseDiff(text), source, selector: 'rules', options })
    expect({ ...a, durationMs: 0 }).toEqual({ ...b, durationMs: 0 })
    expect(a.plans.map((p) => p.name)).toEqual([...a.plans.map((p) => p.name)].sort())
  })

  it('handles binary, deleted and renamed files in the record', async () => {
    const text =
      'diff --git a/catalog/logo.png b/catalog/logo.png\nindex 1..2 100644\nBinary files a/catalog/logo.png and b/catalog/logo.png differ\n'
    const record = await select({ plans: catalog, diff: parseDiff(text), source, selector: 'rules', options })
    expect(record.diff.files).toEqual([
      { path: 'catalog/logo.png', status: 'modified', binary: true, additions: 0, deletions: 0 },
    ])
    expect(record.plans.find((p) => p.name === 'catalog-contract')?.source).toBe('paths')
    expect(record).toMatchObject({
      selector: 'rules',
      threshold: 0.2,
      degraded: false,
      usage: { requests: 0 },
    })
  })
})
