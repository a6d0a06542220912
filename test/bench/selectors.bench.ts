/**
 * Selectors: `rules` over 1,000 plans and a 5,000-line diff (goal: median under 100 ms, and reported
 * against a peer in the same run: merely parsing that diff), and the size of the `llm` prompt for 200
 * plans with and without the cacheable catalog prefix. Inputs are generated from a fixed seed.
 */
import type { Plan } from '../../plans/types.js'
import { parseDiff } from '../../selectors/diff.js'
import { buildRequest, estimateTokens, renderDiff } from '../../selectors/prompt.js'
import { rulesSelection } from '../../selectors/rules.js'
import { median, seededRandom, timeRuns } from './harness.js'
import type { Bench } from './harness.js'

const AREAS = [
  'orders',
  'payments',
  'catalog',
  'search',
  'accounts',
  'shipping',
  'billing',
  'inventory',
  'reviews',
  'auth',
]
const COMMON = [
  'checkout',
  'invoice',
  'refund',
  'discount',
  'coupon',
  'latency',
  'currency',
  'tax',
  'address',
  'session',
  'token',
  'webhook',
  'export',
  'import',
  'pricing',
  'stock',
  'warehouse',
  'rating',
  'profile',
  'password',
  'quota',
  'pagination',
  'filter',
  'sorting',
  'retry',
  'timeout',
  'queue',
  'cache',
  'schema',
  'migration',
]

/** 30 domain words plus 370 made-up ones, so plans differ in vocabulary as real catalogs do. */
const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ren',
  'tor',
  'vex',
  'sul',
  'pra',
  'dun',
  'fel',
  'gor',
  'hin',
  'jas',
  'qui',
  'zab',
]
const WORDS = [
  ...COMMON,
  ...Array.from({ length: 370 }, (_, i) => {
    const a = SYLLABLES[i % 15]!
    const b = SYLLABLES[Math.floor(i / 15) % 15]!
    const c = SYLLABLES[Math.floor(i / 225) % 15]!
    return `${a}${b}${c}x`
  }),
]

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!
}

export function generatePlans(count: number, seed: number): Plan[] {
  const random = seededRandom(seed)
  return Array.from({ length: count }, (_, i) => {
    const area = pick(random, AREAS)
    const words = Array.from({ length: 12 }, () => pick(random, WORDS))
    return {
      name: `${area}-${words[0]}-${String(i).padStart(4, '0')}`,
      title: `${area} ${words[0]} and ${words[1]} behave`,
      selectionHint:
        `Validates ${area} ${words.slice(0, 4).join(', ')} and how ${words[4]} interacts with ${words[5]}. ` +
        `Pick when a change touches ${area}, ${words.slice(6, 10).join(', ')} or the ${words[10]} payloads.`,
      paths: random() < 0.5 ? [`services/${area}/${words[11]}/**`] : [],
      tags: [area, words[1]!],
      always: false,
      blocking: true,
      vars: {},
      file: `plans/p${i}.md`,
      dir: 'plans',
      checks: [],
      frontmatter: {},
    }
  })
}

/** A change concentrated like a real one: two areas and 25 words of the vocabulary, over many files. */
export function generateDiff(lines: number, seed: number): string {
  const random = seededRandom(seed)
  const areas = [pick(random, AREAS), pick(random, AREAS)]
  const words = Array.from({ length: 25 }, () => pick(random, WORDS))
  const parts: string[] = []
  let written = 0
  for (let f = 0; written < lines; f++) {
    const n = Math.min(50, lines - written)
    const area = pick(random, areas)
    const file = `services/${area}/${pick(random, words)}/file${f}.js`
    const body = Array.from({ length: n }, () => {
      const a = pick(random, words)
      const b = pick(random, words)
      return `${random() < 0.5 ? '+' : '-'}  const ${a}${b[0]!.toUpperCase()}${b.slice(1)} = await ${area}.${a}(${b}Id) // ${a} ${b}`
    })
    const removed = body.filter((l) => l.startsWith('-')).length
    parts.push(
      `diff --git a/${file} b/${file}\n--- a/${file}\n+++ b/${file}\n@@ -1,${removed} +1,${n - removed} @@\n${body.join('\n')}\n`,
    )
    written += n
  }
  return parts.join('')
}

export const bench: Bench = {
  name: 'selectors',
  async run(log) {
    const plans = generatePlans(1000, 7)
    const text = generateDiff(5000, 11)
    const diff = parseDiff(text)
    const rules = await timeRuns(() => rulesSelection(plans, diff, 0.2), 15, 3)
    const parse = await timeRuns(() => parseDiff(text), 15, 3)
    const result = rulesSelection(plans, diff, 0.2)
    const rulesMs = median(rules)
    log(
      `rules, 1,000 plans x ${diff.files.length} files / 5,000 changed lines: median ${rulesMs.toFixed(1)} ms`,
    )
    log(
      `peer, parsing that diff: median ${median(parse).toFixed(1)} ms; rules/parse = ${(rulesMs / median(parse)).toFixed(2)}x`,
    )
    log(
      `selected ${result.selected.length} (paths ${result.selected.filter((p) => p.source === 'paths').length}), rejected ${result.rejected.length}`,
    )

    // Prompt size: 200 plans, a 300-line diff inside the default budget.
    const catalog = generatePlans(200, 13)
    const small = parseDiff(generateDiff(300, 17))
    const rendered = renderDiff(small, catalog, 12_000)
    const request = buildRequest(catalog, rendered.text, 'claude-sonnet-4-5', 4096)
    const tokens = (value: unknown) =>
      estimateTokens(typeof value === 'string' ? value : JSON.stringify(value))
    const system = request.system as Array<{ text: string }>
    const prefix = tokens(request.tools) + tokens(system[0]!.text) + tokens(system[1]!.text)
    const total = prefix + tokens(rendered.text)
    const uncached = total - prefix
    log(`llm prompt, 200 plans + 300-line diff (chars/4): ${total} tokens without caching`)
    log(
      `  cacheable prefix (tools, system, catalog) ${prefix} tokens; with the prefix cached, ${uncached} tokens at full rate per request`,
    )
    log(
      `  (cache reads are billed at a tenth of the input rate: ~${Math.round(uncached + prefix / 10)} token-equivalents)`,
    )
    const share = prefix / total
    return [
      {
        label: 'rules, 1,000 plans / 5,000-line diff',
        value: rulesMs,
        unit: 'ms',
        goal: '< 100 ms',
        met: rulesMs < 100,
      },
      {
        label: 'llm prompt for 200 plans: cacheable share',
        value: share * 100,
        unit: '%',
        goal: '>= 50 %',
        met: share >= 0.5,
      },
    ]
  },
}
