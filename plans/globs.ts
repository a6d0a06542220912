import picomatch from 'picomatch'

const OPENER: Record<string, string> = { ']': '[', ')': '(', '}': '{' }
const CLOSER: Record<string, string> = { '[': ']', '(': ')', '{': '}' }

/**
 * Why a `paths` glob is unusable, or undefined when it is fine. Globs are picomatch patterns relative to
 * the repository root with `/` separators; a leading `!` negates.
 */
export function globProblem(glob: string): string | undefined {
  // Plans repeat the same few globs; compiling each once keeps loading many plans cheap.
  if (checked.has(glob)) return checked.get(glob)
  const problem = findProblem(glob)
  if (checked.size >= MAX_CACHED) checked.clear()
  checked.set(glob, problem)
  return problem
}

const checked = new Map<string, string | undefined>()
const MAX_CACHED = 10_000

function findProblem(glob: string): string | undefined {
  const body = glob.startsWith('!') ? glob.slice(1) : glob
  if (body.trim() === '') return 'is empty'
  if (/^(?:\/|[A-Za-z]:[\\/])/.test(body)) return 'is absolute; paths are relative to the repository root'
  if (/(?:^|\/)\.\.(?:\/|$)/.test(body)) return 'leaves the repository with ".."'
  if (/\\[A-Za-z0-9_-]/.test(body)) return 'uses "\\" as a separator; use "/"'
  try {
    // strictBrackets turns silently-literal unbalanced [ ( { into errors, which is what an author wants to hear.
    picomatch.makeRe(body, { strictBrackets: true })
  } catch (error) {
    const match = (error as Error).message.match(/^Missing (opening|closing): "(.)"/)
    if (!match) return (error as Error).message
    const char = match[2]!
    return match[1] === 'closing'
      ? `has an unclosed "${OPENER[char] ?? char}"`
      : `has a "${CLOSER[char] ?? char}" without a matching "${char}"`
  }
  return undefined
}
