import { distance } from 'fastest-levenshtein'

/** What a fence's info string makes of it. */
export type FenceRole =
  | { role: 'check'; kind: string; name?: string }
  | { role: 'unknown-kind'; word: string; suggestion: string }
  | { role: 'documentation' }

/**
 * Fence languages that sit within a couple of edits of a check kind (`log`, `lua` ~ `load`; `ex`, `es` ~
 * `e2e`) but are ordinary documentation.
 */
const KNOWN_LANGUAGES = new Set(
  (
    'text txt plain plaintext log logs lua less lean lex ex exs es e eex erb elm ejs json jsonc json5 jsonl ' +
    'yaml yml toml ini env js ts jsx tsx mjs cjs sh bash zsh fish shell console terminal http https sql go rb ' +
    'ruby py python java c cpp cs css scss html xml md markdown mermaid diff patch dockerfile docker make ' +
    'makefile graphql gql proto protobuf csv tsv hcl terraform tf nginx kotlin swift rust rs php scala r dart ' +
    'vue svelte ascii ansi sol lisp coq ada awk bat cmd ps ps1 pwsh perl pl nix zig odin vb asm wasm'
  ).split(' '),
)

/** Largest edit distance at which a fence word is taken for a misspelt kind. */
const MAX_TYPO_DISTANCE = 2

/**
 * Classifies a fence by its info string: a check (`contract Order schema`), a likely misspelt check kind
 * (`contrct`, `Contract`, `contract-v2`), or documentation (`js`, `yaml`, none).
 */
export function classifyFence(info: string, kinds: readonly string[]): FenceRole {
  const match = info.match(/^(\S+)(?:\s+(.*))?$/)
  if (!match || kinds.length === 0) return { role: 'documentation' }
  const word = match[1]!
  if (kinds.includes(word)) {
    const name = unquote((match[2] ?? '').trim())
    return name ? { role: 'check', kind: word, name } : { role: 'check', kind: word }
  }
  const lower = word.toLowerCase()
  if (KNOWN_LANGUAGES.has(lower)) return { role: 'documentation' }
  // `contract-v2`, `e2e:checkout`: a kind with something glued on.
  const glued = kinds.find(
    (k) => lower.length > k.length && lower.startsWith(k) && /[-_.:/]/.test(lower[k.length]!),
  )
  if (glued) return { role: 'unknown-kind', word, suggestion: glued }
  let best: { kind: string; d: number } | undefined
  for (const kind of kinds) {
    const d = distance(lower, kind)
    if (d <= MAX_TYPO_DISTANCE && d < lower.length && (!best || d < best.d)) best = { kind, d }
  }
  return best ? { role: 'unknown-kind', word, suggestion: best.kind } : { role: 'documentation' }
}

function unquote(text: string): string {
  const m = text.match(/^(["'])(.*)\1$/)
  return (m ? m[2]! : text).trim()
}
