/**
 * Tokens for lexical relevance: identifiers split at camelCase, snake_case and punctuation, lower-cased,
 * stop words dropped, and a light suffix stemmer so that `orders`, `ordered` and `ordering` meet `order`.
 *
 * Two stop lists, because a plan and a diff are different texts. English words and plan-hint boilerplate
 * ("pick when a change touches") are dropped from both. Code keywords (`const`, `return`, `async`) are
 * dropped from diff text only: they are the syntax every changed line is made of, while in a plan's hint
 * the same word is the author's (a hint may well say "the default page" or "a new order"). Words that name
 * a format or a structure (`json`, `html`, `css`, `index`, `value`) are in neither list: a hint that says
 * "JSON body parser" or "the default index file" means them, and how much such a word discriminates
 * between plans is what BM25's inverse document frequency measures — a word no plan uses scores nothing.
 */

const ENGLISH =
  'a an and are as at be been but by can could did do does for from had has have how if in into is it its ' +
  'may more most must no not of on or our out over should so such than that the their them then there these ' +
  'they this those through to too under up use used uses using very was we were what when where which while ' +
  'who why will with would you your also any all each other only own same both few just about after again ' +
  'against before being below between during further here once off above down because until whether ' +
  'me my he she his her us am eg ie etc vs'

/** Syntax and tooling words every changed line is made of: dropped from diff text, not from plans. */
const CODE =
  'const let var function return import export class new self null undefined true false void ' +
  'async await yield try catch finally throw throws else switch case break continue typeof instanceof ' +
  'public private protected static interface type enum extends implements require module exports ' +
  'def elif pass none lambda nil func fn struct err src lib dist js ts mjs cjs jsx tsx ' +
  'todo fixme www com org'

/** Plan-hint boilerplate: the words of "pick when a change touches …". */
const BOILERPLATE =
  'pick picks select selected change changes changed touch touches touching plan plans check checks ' +
  'validate validates validation'

const words = (...lists: string[]) => new Set(lists.join(' ').split(/\s+/))

/** Stop words of a plan's own text (name, title, tags, hint). */
export const PLAN_STOP_WORDS = words(ENGLISH, BOILERPLATE)
/** Stop words of a diff's text (paths, hunk context, changed lines). */
export const DIFF_STOP_WORDS = words(ENGLISH, BOILERPLATE, CODE)

/**
 * Words of a text: split at non-alphanumerics (so snake_case and kebab-case) and camelCase humps,
 * lower-cased, stop words removed, stemmed. Two-letter words are kept (`id`, `db`, `ui`): short domain
 * words are common in code. Default stop words: a diff's.
 */
export function tokenize(
  text: string,
  into: string[] = [],
  stop: ReadonlySet<string> = DIFF_STOP_WORDS,
): string[] {
  for (const raw of text.split(/[^A-Za-z0-9]+/)) {
    if (raw.length < 2) continue
    // orderTotalCents → order Total Cents; HTTPServer → HTTP Server; userIDs → user IDs
    for (const part of raw.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)) {
      if (part.length < 2 || /^\d/.test(part)) continue
      const word = part.toLowerCase()
      if (stop.has(word)) continue
      const stem = stemWord(word)
      if (stem.length >= 2 && !stop.has(stem)) into.push(stem)
    }
  }
  return into
}

/** A deliberately small suffix stemmer: plurals, -ing, -ed, -ise/-ize/-isation, -gue, trailing -e. Applied the same on both sides. */
export function stemWord(word: string): string {
  let w = word
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`
  else if (w.endsWith('sses')) w = w.slice(0, -2)
  // `ids` → `id`, `orders` → `order`; not `bus`, `has`, `status`, `analysis`, `was`
  else if (w.length > 2 && w.endsWith('s') && !/(ss|us|is|as|os)$/.test(w)) w = w.slice(0, -1)
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3)
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2)
  if (w.length > 6 && w.endsWith('gue')) w = w.slice(0, -2)
  if (w.length > 8 && /(is|iz)ation$/.test(w)) w = w.slice(0, -7)
  else if (w.length > 4 && /(ise|ize|is|iz)$/.test(w)) w = w.replace(/(ise|ize|is|iz)$/, '')
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1)
  return w
}
