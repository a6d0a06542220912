/**
 * The package as a user gets it: `npm pack`, then `npm install <tarball>` into an empty project (its
 * dependencies come from the npm registry, or npm's cache), then `npx vigil` there on a copy of the sample
 * shop. Nothing of the repository is on that project's path but the tarball and the copied sample.
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Verdict } from '../../../engine/verdict.js'
import { traced } from '../../support/module-trace/trace.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'
/** Bounds npm's work: the install downloads what npm's cache lacks. */
const INSTALL_TIMEOUT_MS = 240_000

function exec(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  )

let work: string
let project: string
let packed: string[]

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'vigil-pack-'))
  project = path.join(work, 'project')
  // `npm pack` runs `prepare` (the incremental build) and writes the tarball where it is told.
  const pack = await exec(npm, ['pack', '--json', '--pack-destination', work], root, 120_000)
  expect(pack.code, pack.stderr).toBe(0)
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{
    filename: string
    files: Array<{ path: string }>
  }>
  packed = info!.files.map((f) => f.path)
  await mkdir(project)
  await writeFile(
    path.join(project, 'package.json'),
    `${JSON.stringify({ name: 'uses-vigil', version: '1.0.0', private: true }, null, 2)}\n`,
  )
  const install = await exec(
    npm,
    ['install', path.join(work, info!.filename), '--prefer-offline', '--no-audit', '--no-fund'],
    project,
    INSTALL_TIMEOUT_MS,
  )
  expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0)
  await cp(path.join(root, 'samples/shop'), path.join(project, 'shop'), { recursive: true })
}, INSTALL_TIMEOUT_MS + 150_000)

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

describe('npm pack, installed from the npm registry into an empty project', () => {
  it('ships the built CLI and the published schemas, not the sources, tests or samples', () => {
    for (const file of [
      'bin/vigil.js',
      'dist/engine/cli/main.js',
      'dist/engine/kinds/load/run.js',
      'dist/plans/schema/config.json',
      'dist/selectors/schema/selection-record.json',
      'dist/reporters/schema/verdict.json',
      'plans/schema/config.json',
      'reporters/schema/verdict.json',
      'engine/kubernetes/manifests/rbac.yaml',
    ])
      expect(packed).toContain(file)
    expect(packed.filter((f) => f.endsWith('.ts'))).toEqual([])
    expect(packed.filter((f) => /^(test|samples)\//.test(f) || f.includes('tsbuildinfo'))).toEqual([])
    expect(packed).not.toContain('bin/vigil-dev.js')
  })

  it('installs without tsx, a development dependency', async () => {
    expect(await exists(path.join(project, 'node_modules/vigil/dist/engine/cli/main.js'))).toBe(true)
    expect(await exists(path.join(project, 'node_modules/tsx'))).toBe(false)
    expect(await exists(path.join(project, 'node_modules/typescript'))).toBe(false)
  })

  it('npx vigil --help and npx vigil plans lint work, and load no tsx', async () => {
    const help = await traced(npx, ['--no', '--', 'vigil', '--help'], { cwd: project })
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toContain('Usage: vigil')
    const lint = await traced(
      npx,
      ['--no', '--', 'vigil', 'plans', 'lint', '--config', 'shop/vigil.config.yaml'],
      {
        cwd: project,
      },
    )
    expect(lint.code, lint.stderr).toBe(0)
    const plans = readdirSync(path.join(root, 'samples/shop/plans')).filter((f) => f.endsWith('.md')).length
    expect(lint.stdout).toContain(`${plans} files checked, ${plans} plans, no problems`)
    for (const run of [help, lint]) {
      // The trace ran inside vigil (its entry is there) and saw neither tsx nor a TypeScript file.
      expect(run.urls.some((u) => u.endsWith('/node_modules/vigil/dist/engine/cli/main.js'))).toBe(true)
      expect(run.packages).not.toContain('tsx')
      expect(run.urls.filter((u) => u.endsWith('.ts'))).toEqual([])
    }
  })

  it('npx vigil run validates the copied shop: e2e, contract and adversarial checks pass', async () => {
    const plans = ['checkout-flow', 'orders-contract', 'orders-adversarial'].flatMap((p) => ['--plan', p])
    const run = await traced(
      npx,
      [
        '--no',
        '--',
        'vigil',
        'run',
        '--config',
        'shop/vigil.config.yaml',
        ...plans,
        '--no-baseline',
        '--json',
      ],
      { cwd: project, timeoutMs: 120_000 },
    )
    expect(run.code, run.stderr).toBe(0)
    const verdict = JSON.parse(run.stdout) as Verdict
    expect(verdict.status).toBe('pass')
    expect(verdict.plans.map((p) => p.name).sort()).toEqual([
      'checkout-flow',
      'orders-adversarial',
      'orders-contract',
    ])
    // The kinds' runtimes load from the installed package when a check runs.
    expect(run.packages).toContain('fast-check')
    expect(run.packages).not.toContain('tsx')
    expect(JSON.parse(await readFile(path.join(project, 'package.json'), 'utf8'))).toMatchObject({
      dependencies: { vigil: expect.stringMatching(/^file:/) },
    })
  }, 150_000)
})
