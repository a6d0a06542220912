/**
 * Tokens for lexical relevance: identifiers split at camelCase, snake_case and punctuation, lower-cased,
 * stop words (English, code keywords, plan-hint boilerplate) dropped, and a light suffix stemmer so that
 * `orders`, `ordered` and `ordering` meet `order`.
 */

const STOP_WORDS = new Set(
  // English
  (
    'a an and are as at be been but by can could did do does for from had has have how if in into is it its ' +
    'may more most must no not of on or our out over should so such than that the their them then there these ' +
    'they this those through to too under up use used uses using very was we were what when where which while ' +
    'who why will with would you your also any all each other only own same both few just about after again ' +
    'against before being below between during further here once off above down because until whether ' +
    // code keywords and noise
    'const let var function return import export default class new this self null undefined true false void ' +
    'async await yield try catch finally throw throws else switch case break continue typeof instanceof ' +
    'public private protected static interface type enum extends implements require module exports ' +
    'def elif pass none lambda nil func package struct string number boolean object array value values ' +
    'src lib dist test tests spec index main util utils js ts mjs cjs jsx tsx json yaml yml md txt html css ' +
    'http https www com org todo fixme' +
    // plan-hint boilerplate
    ' pick picks select selected change changes changed touch touches touching plan plans check checks ' +
    'validate validates validation'
  ).split(/\s+/),
)

/** Words of a text: split at non-alphanumerics and camelCase humps, lower-cased, stop words removed, stemmed. */
export function tokenize(text: string, into: string[] = []): string[] {
  for (const raw of text.split(/[^A-Za-z0-9]+/)) {
    if (raw.length < 3) continue
    // orderTotalCents → order Total Cents; HTTPServer → HTTP Server
    for (const part of raw.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)) {
      if (part.length < 3 || /^\d+$/.test(part)) continue
      const word = part.toLowerCase()
      if (STOP_WORDS.has(word)) continue
      const stem = stemWord(word)
      if (stem.length >= 3 && !STOP_WORDS.has(stem)) into.push(stem)
    }
  }
  return into
}

/** A deliberately small suffix stemmer: plurals, -ing, -ed, -ise/-ize/-isation, -gue, trailing -e. Applied the same on both sides. */
export function stemWord(word: string): string {
  let w = word
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`
  else if (w.endsWith('sses')) w = w.slice(0, -2)
  else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1)
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3)
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2)
  if (w.length > 6 && w.endsWith('gue')) w = w.slice(0, -2)
  if (w.length > 8 && /(is|iz)ation$/.test(w)) w = w.slice(0, -7)
  else if (w.length > 4 && /(ise|ize|is|iz)$/.test(w)) w = w.replace(/(ise|ize|is|iz)$/, '')
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1)
  return w
}
