/**
 * BM25 between each plan (its name, title, tags, selection hint and path words) and a diff (its paths,
 * hunk contexts and changed lines). Plans are the documents; the diff is one long query whose term
 * frequencies saturate (Okapi's k3), so a word repeated 500 times in a generated file counts little
 * more than one repeated 5 times.
 *
 * The score is normalised per plan to [0, 1]: divided by what the plan would score if the diff named
 * every word of the plan exactly once. 0.2 therefore reads as "the diff covers about a fifth of what the
 * plan is about", comparable across plans of different lengths.
 */
import type { Plan } from '../plans/types.js'
import { PLAN_STOP_WORDS, tokenize } from './text.js'
import type { ParsedDiff } from './types.js'

const K1 = 1.2
const B = 0.75
const K3 = 2
/** Changed lines longer than this are cut (minified files) before tokenising. */
const MAX_LINE = 400
/** At most this many changed lines feed the query; the rest of a huge diff adds little but time. */
const MAX_LINES = 50_000

interface Posting {
  plan: number
  tf: number
}

export interface LexicalIndex {
  readonly size: number
  /** term → plans containing it. */
  postings: Map<string, Posting[]>
  /** Per plan: the score if the diff named each of its terms once. */
  ideal: Float64Array
  /** Per plan: stem → the first surface word, for readable reasons. */
  surface: Array<Map<string, string>>
  docLength: Float64Array
  avgLength: number
}

/** Field weights: a word in the name or title says more about the plan than one in the hint. */
function planText(plan: Plan): Array<[string, number]> {
  return [
    [plan.name, 2],
    [plan.title, 2],
    [plan.tags.join(' '), 2],
    [plan.selectionHint, 1],
    [plan.paths.join(' '), 1],
  ]
}

export function buildIndex(plans: readonly Plan[]): LexicalIndex {
  const postings = new Map<string, Posting[]>()
  const termFreqs: Array<Map<string, number>> = []
  const surface: Array<Map<string, string>> = []
  const docLength = new Float64Array(plans.length)
  plans.forEach((plan, i) => {
    const tf = new Map<string, number>()
    const words = new Map<string, string>()
    for (const [text, weight] of planText(plan)) {
      for (const raw of text.split(/[^A-Za-z0-9]+/)) {
        for (const stem of tokenize(raw, [], PLAN_STOP_WORDS)) {
          tf.set(stem, (tf.get(stem) ?? 0) + weight)
          if (!words.has(stem)) words.set(stem, raw.toLowerCase())
          docLength[i] = docLength[i]! + weight
        }
      }
    }
    termFreqs.push(tf)
    surface.push(words)
    for (const [term, count] of tf) {
      let list = postings.get(term)
      if (!list) postings.set(term, (list = []))
      list.push({ plan: i, tf: count })
    }
  })
  const avgLength = plans.length ? docLength.reduce((a, b) => a + b, 0) / plans.length || 1 : 1
  const index: LexicalIndex = {
    size: plans.length,
    postings,
    ideal: new Float64Array(plans.length),
    surface,
    docLength,
    avgLength,
  }
  termFreqs.forEach((tf, i) => {
    let ideal = 0
    for (const [term, count] of tf) ideal += termScore(index, term, i, count, 1)
    index.ideal[i] = ideal
  })
  return index
}

function idf(index: LexicalIndex, term: string): number {
  const n = index.postings.get(term)?.length ?? 0
  return Math.log(1 + (index.size - n + 0.5) / (n + 0.5))
}

function termScore(index: LexicalIndex, term: string, plan: number, tf: number, qtf: number): number {
  const norm = K1 * (1 - B + (B * index.docLength[plan]!) / index.avgLength)
  const query = (qtf * (K3 + 1)) / (qtf + K3)
  return idf(index, term) * ((tf * (K1 + 1)) / (tf + norm)) * query
}

/**
 * Prose: documentation names the domain's words without changing what runs. Its changed lines count half,
 * so a README section about orders does not read like a change to orders.
 */
const PROSE = /\.(md|markdown|mdx|txt|rst|adoc)$/i
const PROSE_WEIGHT = 0.5

/**
 * Unchanged context lines of a hunk: they say where the change is (the function, the neighbouring
 * branches), not what changed, so they count a quarter of a changed line.
 */
const CONTEXT_WEIGHT = 0.25

/**
 * Term frequencies of a diff: path words count 3 times, changed lines and the hunk header once each,
 * context lines a quarter (all halved in prose files).
 */
export function diffTerms(diff: ParsedDiff): Map<string, number> {
  const terms = new Map<string, number>()
  const add = (text: string, weight: number) => {
    for (const term of tokenize(text)) terms.set(term, (terms.get(term) ?? 0) + weight)
  }
  let budget = MAX_LINES
  for (const file of diff.files) {
    add(file.path, 3)
    if (file.oldPath) add(file.oldPath, 3)
    const weight = PROSE.test(file.path) ? PROSE_WEIGHT : 1
    for (const hunk of file.hunks) {
      add(hunk.header.replace(/^@@[^@]*@@/, ''), weight)
      for (const line of hunk.lines) {
        if (budget <= 0) break
        const changed = line[0] === '+' || line[0] === '-'
        if (!changed && line[0] !== ' ') continue
        budget--
        const text = line.length > MAX_LINE ? line.slice(1, MAX_LINE) : line.slice(1)
        add(text, changed ? weight : weight * CONTEXT_WEIGHT)
      }
    }
  }
  return terms
}

export interface LexicalScore {
  /** Normalised relevance in [0, 1]. */
  score: number
  /** Matching words, strongest first (surface forms from the plan). */
  terms: string[]
}

/** Scores every plan against the diff's terms; the result is indexed like the plans. */
export function scorePlans(index: LexicalIndex, query: Map<string, number>): LexicalScore[] {
  const raw = new Float64Array(index.size)
  const contributions: Array<Array<[string, number]>> = Array.from({ length: index.size }, () => [])
  for (const [term, qtf] of query) {
    const list = index.postings.get(term)
    if (!list) continue
    for (const { plan, tf } of list) {
      const s = termScore(index, term, plan, tf, qtf)
      raw[plan] = raw[plan]! + s
      contributions[plan]!.push([term, s])
    }
  }
  return contributions.map((list, i) => {
    const ideal = index.ideal[i]!
    const score = ideal > 0 ? Math.min(1, raw[i]! / ideal) : 0
    const terms = list
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([term]) => index.surface[i]!.get(term) ?? term)
    return { score: Math.round(score * 1000) / 1000, terms: [...new Set(terms)] }
  })
}
