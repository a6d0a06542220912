import { describe, expect, it } from 'vitest'
import { DIFF_STOP_WORDS, PLAN_STOP_WORDS, stemWord, tokenize } from '../../selectors/text.js'
import { buildIndex, diffTerms, scorePlans } from '../../selectors/bm25.js'
import { clearLeader, rulesSelection } from '../../selectors/rules.js'
import { parseDiff } from '../../selectors/index.js'
import { modify, plan } from './fixtures.js'

describe('tokens', () => {
  it('splits camelCase and snake_case, keeps two-letter domain words, stems plurals', () => {
    expect(tokenize('userIds order_total_cents HTTPServer')).toEqual([
      'user',
      'id',
      'order',
      'total',
      'cent',
      'http',
      'server',
    ])
    expect(stemWord('ids')).toBe('id')
    expect(stemWord('orders')).toBe('order')
    for (const kept of ['status', 'bus', 'has']) expect(stemWord(kept)).toBe(kept)
  })

  it('drops code keywords from a diff, not from a plan; format words are in neither list', () => {
    expect(tokenize('const x = await bodyParser.json(req)')).toEqual(['body', 'parser', 'json', 'req'])
    expect(tokenize('a new default page', [], PLAN_STOP_WORDS)).toEqual(['new', 'default', 'page'])
    expect(tokenize('a new default page', [], DIFF_STOP_WORDS)).toEqual(['default', 'page'])
    for (const word of ['json', 'html', 'css', 'index', 'value'])
      expect(DIFF_STOP_WORDS.has(word) || PLAN_STOP_WORDS.has(word), word).toBe(false)
  })

  it('counts context lines a quarter of a changed line, and file paths', () => {
    const text =
      'diff --git a/src/filter.js b/src/filter.js\n--- a/src/filter.js\n+++ b/src/filter.js\n' +
      '@@ -1,3 +1,3 @@\n operator lte\n-if (a == null)\n+if (a === undefined)\n'
    const terms = diffTerms(parseDiff(text))
    expect(terms.get('operator')).toBe(0.25)
    expect(terms.get('lte')).toBe(0.25)
    expect(terms.get('filter')).toBe(3) // path words count three times
  })
})

describe('the threshold is not a cliff', () => {
  const plans = [
    plan('cli-options', {
      selectionHint:
        'The command line: source file, port, host, watch, routes, middlewares, static, read-only, delay, ' +
        'id, snapshots, quiet, config file, the usage text and start-up messages.',
      tags: ['cli'],
    }),
    plan('orders', { selectionHint: 'Orders are created and listed.' }),
    plan('payments', { selectionHint: 'Payments are authorised and refunded.' }),
  ]

  it('selects a clear leader from half the threshold and says so', () => {
    const diff = parseDiff(modify('src/cli/run.js', ['  .catch((err) => {'], ['  .catch(() => {']))
    const scores = scorePlans(buildIndex(plans), diffTerms(diff)).map((s) => s.score)
    expect(scores[0]).toBeLessThan(0.2)
    expect(scores[0]).toBeGreaterThanOrEqual(0.1)
    const result = rulesSelection(plans, diff, 0.2)
    expect(result.selected.map((p) => p.name)).toEqual(['cli-options'])
    expect(result.selected[0]!.reason).toMatch(/below 0\.2 but no other plan scores/)
  })

  it('needs twice the next plan, half the threshold, and a threshold strictly between 0 and 1', () => {
    expect(clearLeader([0.15, 0.07], 0.2)).toEqual({ index: 0, ratio: 2.1, next: 0.07 })
    expect(clearLeader([0.15, 0.08], 0.2)).toBeUndefined()
    expect(clearLeader([0.09, 0], 0.2)).toBeUndefined()
    expect(clearLeader([0.5, 0], 1)).toBeUndefined()
    expect(clearLeader([0.5], 0.2)).toBeUndefined()
  })
})

describe('--explain', () => {
  it('gives every plan its layers, its score and its margin to the threshold', async () => {
    const { explainSelection } = await import('../../selectors/explain.js')
    const { select } = await import('../../selectors/index.js')
    const { catalog, options } = await import('./fixtures.js')
    const diff = parseDiff(modify('orders/server.js', ['a'], ['order total latency']))
    const record = await select({
      plans: catalog,
      diff,
      source: { kind: 'file' },
      selector: 'rules',
      options,
    })
    const sorted = [...catalog].sort((a, b) => (a.name < b.name ? -1 : 1))
    const items = explainSelection(sorted, diff, record, 0.2)
    expect(items.map((i) => i.name)).toEqual(sorted.map((p) => p.name))
    for (const item of items) {
      expect(item.margin).toBeCloseTo(item.score - 0.2, 3)
      expect(item.layers.find((l) => l.layer === 'rules')?.says).toMatch(
        /^score [\d.]+, threshold 0\.2, margin [+-]/,
      )
      expect(item.selected).toBe(record.plans.some((p) => p.name === item.name))
    }
  })
})
