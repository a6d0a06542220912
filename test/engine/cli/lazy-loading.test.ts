/**
 * A command loads what it uses when it uses it: the built CLI runs with a module trace, and each command
 * is held to the packages and modules it may load. (The CPU these cost is measured in
 * test/bench/startup.bench.ts, never here.)
 */
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { traced } from '../../support/module-trace/trace.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const shop = ['--config', 'samples/shop/vigil.config.yaml']
const shopPlans = readdirSync(path.join(root, 'samples/shop/plans')).filter((f) => f.endsWith('.md')).length

const vigil = (...args: string[]) =>
  traced(process.execPath, [path.join(root, 'bin/vigil.js'), ...args], {
    cwd: root,
    env: { ANTHROPIC_API_KEY: '' },
  })

/** vigil's own modules among the URLs, relative to the repository (`dist/engine/cli/main.js`). */
function own(urls: readonly string[]): string[] {
  const prefix = `file://${root}/`
  return urls
    .filter((u) => u.startsWith(prefix) && !u.includes('/node_modules/'))
    .map((u) => u.slice(prefix.length))
}

/** What a kind needs only to run checks, never to read plans. */
const KIND_RUNTIMES = [
  'autocannon',
  'hdr-histogram-js',
  'fast-check',
  'undici',
  'openapi-sampler',
  '@apidevtools/json-schema-ref-parser',
  '@kubernetes/client-node',
]
const SERVERS_AND_SDKS = ['@anthropic-ai/sdk', '@modelcontextprotocol/sdk', 'zod']

describe('the built CLI loads what a command uses', () => {
  it('vigil --help and every command help load commander and the static declarations only', async () => {
    for (const args of [
      ['--help'],
      ['--version'],
      ['plans', 'lint', '--help'],
      ['select', '--help'],
      ['run', '--help'],
      ['ci', '--help'],
      ['dev', '--help'],
      ['init', '--help'],
      ['mcp', '--help'],
      ['adversary', 'suggest', '--help'],
      ['sandbox', '--help'],
      ['sandboxes', 'gc', '--help'],
    ]) {
      const result = await vigil(...args)
      expect(result.code, args.join(' ')).toBe(0)
      expect([...result.packages], args.join(' ')).toEqual(['commander'])
      const modules = own(result.urls)
      expect(modules, args.join(' ')).toContain('dist/engine/cli/program.js')
      expect(
        modules.filter((m) => m.startsWith('dist/engine/cli/commands/')),
        args.join(' '),
      ).toEqual([])
    }
  })

  it('help lists every command, and run --help the executors of the registry', async () => {
    const help = await vigil('--help')
    for (const name of [
      'adversary',
      'ci',
      'dev',
      'init',
      'mcp',
      'plans',
      'run',
      'sandbox',
      'sandboxes',
      'select',
    ])
      expect(help.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'))
    const run = await vigil('run', '--help')
    expect(run.stdout.replace(/\s+/g, ' ')).toContain('(choices: "local", "kubernetes")')
  })

  it('plans lint reads the kinds’ schemas without loading any kind’s runtime, the MCP server or an SDK', async () => {
    const result = await vigil('plans', 'lint', ...shop)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(`${shopPlans} files checked, ${shopPlans} plans, no problems`)
    // The schemas are validated by code generated at build time: ajv's run-time helpers load, its compiler not.
    expect(own(result.urls).filter((m) => m.startsWith('dist/plans/validators/')).length).toBeGreaterThan(4)
    expect(result.urls.filter((u) => /\/node_modules\/ajv\/dist\/(core|compile\/)/.test(u))).toEqual([])
    for (const name of [...KIND_RUNTIMES, ...SERVERS_AND_SDKS]) expect(result.packages).not.toContain(name)
    const modules = own(result.urls)
    for (const kind of ['adversarial', 'contract', 'e2e', 'load'])
      expect(modules).toContain(`dist/engine/kinds/${kind}/kind.js`)
    expect(modules.filter((m) => /^dist\/engine\/kinds\/[^/]+\/(run|runner)\.js$/.test(m))).toEqual([])
    expect(modules.filter((m) => m.startsWith('dist/engine/mcp/'))).toEqual([])
  })

  it('select --selector rules loads neither the Anthropic SDK nor the prompt’s zod schemas', async () => {
    const result = await vigil(
      'select',
      '--selector',
      'rules',
      ...shop,
      '--patch',
      'samples/shop/changes/slow-lookup.patch',
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('checkout-load')
    for (const name of [...KIND_RUNTIMES, ...SERVERS_AND_SDKS]) expect(result.packages).not.toContain(name)
    expect(own(result.urls)).not.toContain('dist/selectors/model.js')
  })

  it('the trace sees a lazily imported SDK: select --selector llm loads it (and, without a key, stops)', async () => {
    const result = await vigil(
      'select',
      '--selector',
      'llm',
      ...shop,
      '--patch',
      'samples/shop/changes/slow-lookup.patch',
    )
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('no API key')
    expect(result.packages).toContain('@anthropic-ai/sdk')
    expect(result.packages).not.toContain('@modelcontextprotocol/sdk')
  })

  it('no command loads tsx', async () => {
    const result = await vigil('plans', 'list', ...shop)
    expect(result.code, result.stderr).toBe(0)
    expect(result.packages).not.toContain('tsx')
    expect(result.urls.filter((u) => u.endsWith('.ts'))).toEqual([])
  })
})
