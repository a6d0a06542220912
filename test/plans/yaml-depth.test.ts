import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, loadPlans } from '../../plans/index.js'
import { MAX_YAML_DEPTH, parseYaml } from '../../plans/yaml.js'
import { tempTree } from './helpers.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const DEEP = 7000

/**
 * Nested collections `depth` levels deep in each YAML form; `opener(n)` is the offset where the n-th
 * level (1-based) starts, so a test knows where the first level past the limit is.
 */
const forms: Record<string, { text: (depth: number) => string; opener: (n: number) => number }> = {
  'flow sequences': {
    text: (d) => `x: ${'['.repeat(d - 1)}${']'.repeat(d - 1)}`,
    opener: (n) => 3 + n - 2,
  },
  'flow mappings': {
    text: (d) => `x: ${'{a: '.repeat(d - 1)}1${'}'.repeat(d - 1)}`,
    opener: (n) => 3 + 4 * (n - 2),
  },
  'flow mappings without spaces': {
    text: (d) => `x: ${'{a:'.repeat(d - 1)}1${'}'.repeat(d - 1)}`,
    opener: (n) => 3 + 3 * (n - 2),
  },
  'compact block sequences': {
    text: (d) => `${'- '.repeat(d)}x`,
    opener: (n) => 2 * (n - 1),
  },
  'mixed flow collections': {
    text: (d) => {
      const levels = Array.from({ length: d - 1 }, (_, i) => i % 2 === 0)
      return `x: ${levels.map((seq) => (seq ? '[' : '{a: ')).join('')}1${levels
        .reverse()
        .map((seq) => (seq ? ']' : '}'))
        .join('')}`
    },
    opener: (n) => 3 + Math.ceil((n - 2) / 2) + 4 * Math.floor((n - 2) / 2),
  },
  'a flow sequence as a key': {
    text: (d) => `? ${'['.repeat(d - 1)}${']'.repeat(d - 1)}\n: v`,
    opener: (n) => 2 + n - 2,
  },
  'an anchored flow sequence (not the fast path)': {
    text: (d) => `x: &a ${'['.repeat(d - 1)}${']'.repeat(d - 1)}\ny: *a`,
    opener: (n) => 6 + n - 2,
  },
}

/** Block mappings nested by indentation: `depth` lines. */
function blockMappings(depth: number): string {
  return Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n'
}

describe('YAML nesting depth', () => {
  for (const [name, form] of Object.entries(forms)) {
    it(`${name}: ${MAX_YAML_DEPTH} levels parse`, () => {
      const parsed = parseYaml(form.text(MAX_YAML_DEPTH))
      expect(parsed.errors).toEqual([])
      expect(parsed.value).toBeTypeOf('object')
    })

    it(`${name}: ${DEEP} levels are a located error, not a stack overflow`, () => {
      const text = form.text(DEEP)
      const parsed = parseYaml(text)
      expect(parsed.value).toBeUndefined()
      expect(parsed.errors).toEqual([
        { offset: form.opener(MAX_YAML_DEPTH + 1), message: `nested deeper than ${MAX_YAML_DEPTH} levels` },
      ])
      expect('[{-?'.includes(text[parsed.errors[0]!.offset]!)).toBe(true)
    })
  }

  it('block mappings nested by indentation: the limit holds there too', () => {
    expect(parseYaml(blockMappings(MAX_YAML_DEPTH)).errors).toEqual([])
    const text = blockMappings(MAX_YAML_DEPTH + 50)
    const parsed = parseYaml(text)
    const line = MAX_YAML_DEPTH // 0-based line of the level past the limit
    const offset = text.split('\n').slice(0, line).join('\n').length + 1 + line
    expect(parsed.errors).toEqual([{ offset, message: `nested deeper than ${MAX_YAML_DEPTH} levels` }])
  })

  it('brackets inside quoted scalars, block scalars and comments are not nesting', () => {
    const brackets = '['.repeat(DEEP)
    const parsed = parseYaml(
      `a: "${brackets}"\nb: '${brackets}'\nc: |\n  ${brackets}\nd: 1 # ${brackets}\ne: x${brackets}\n`,
    )
    expect(parsed.errors).toEqual([])
    expect(parsed.value).toMatchObject({ a: brackets, b: brackets, c: `${brackets}\n`, d: 1 })
  })
})

const hint = 'selectionHint: Validates the catalog endpoints and their response schema.'
const deepFlow = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`

describe('deeply nested YAML in plans and the config', () => {
  it('is a located error for its own file, and the other plans still load', async () => {
    const cwd = await tempTree({
      'plans/front.md': `---\nname: front\ntitle: Front\n${hint}\nvars: { x: ${deepFlow} }\n---\n\n\`\`\`contract\nrequest: GET /x\n\`\`\`\n`,
      'plans/block.md': `---\nname: block\ntitle: Block\n${hint}\n---\n\n\`\`\`contract\nrequest: GET /x\nexpect: ${'{a: '.repeat(DEEP)}1${'}'.repeat(DEEP)}\n\`\`\`\n`,
      'plans/dashes.md': `---\nname: dashes\ntitle: Dashes\n${hint}\n---\n\n\`\`\`contract\nrequest: GET /x\nx:\n  ${'- '.repeat(DEEP)}x\n\`\`\`\n`,
      'plans/good.md': `---\nname: good\ntitle: Good\n${hint}\n---\n\n\`\`\`contract\nrequest: GET /x\n\`\`\`\n`,
    })
    const result = await loadPlans({ roots: ['plans'], cwd })
    expect(result.plans.map((p) => p.name)).toEqual(['good'])
    const depth = `nested deeper than ${MAX_YAML_DEPTH} levels`
    expect(
      result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.severity} ${d.message}`),
    ).toEqual([
      `plans/block.md:9:${9 + 4 * (MAX_YAML_DEPTH - 1)} error invalid YAML in contract block: ${depth}`,
      `plans/dashes.md:10:${3 + 2 * (MAX_YAML_DEPTH - 1)} error invalid YAML in contract block: ${depth}`,
      `plans/front.md:5:${12 + MAX_YAML_DEPTH - 2} error invalid YAML in frontmatter: ${depth}`,
    ])
  })

  it('in the config: a ConfigError at file:line:col', async () => {
    const cwd = await tempTree({ 'vigil.config.yaml': `plans: [plans]\nselector: ${deepFlow}\n` })
    const error = await loadConfig(undefined, cwd).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toBe(
      `vigil.config.yaml:2:${11 + MAX_YAML_DEPTH - 1} invalid YAML: nested deeper than ${MAX_YAML_DEPTH} levels`,
    )
  })

  it('vigil plans lint: exit 2 with the location, never a crash', async () => {
    const cwd = await tempTree({
      'vigil.config.yaml': 'plans: [plans]\n',
      'plans/front.md': `---\nname: front\ntitle: Front\n${hint}\nvars: { x: ${deepFlow} }\n---\n\n\`\`\`contract\nrequest: GET /x\n\`\`\`\n`,
      'plans/good.md': `---\nname: good\ntitle: Good\n${hint}\n---\n\n\`\`\`contract\nrequest: GET /x\n\`\`\`\n`,
    })
    const ran = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(repo, 'bin/vigil.js'), 'plans', 'lint'],
        { cwd, timeout: 25_000, env: { ...process.env, NO_COLOR: '1' } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
      )
    })
    expect(ran.stderr + ran.stdout).not.toMatch(/RangeError|call stack|unexpected error/)
    expect(ran.code).toBe(2)
    expect(ran.stdout + ran.stderr).toContain(
      `plans/front.md:5:${12 + MAX_YAML_DEPTH - 2} invalid YAML in frontmatter: nested deeper than ${MAX_YAML_DEPTH} levels`,
    )
  })
})
