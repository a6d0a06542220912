/**
 * Concurrent `vigil ci` runs from one folder: each writes into its own `.vigil/runs/<run-id>/`, and
 * `.vigil/ci` becomes, in one rename, a link to the whole folder of the run that finished last. The real
 * CLI on a copy of the sample shop; then the run folder's parts (publish, prune) on real files.
 */
import { execFile, spawn } from 'node:child_process'
import {
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  utimesSync,
  writeFileSync,
  symlinkSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { XMLParser } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artefactPaths, ciReporterSpecs } from '../../engine/ci/outputs.js'
import { publishRun, pruneRuns, type RunManifest } from '../../engine/ci/run-folder.js'
import { processStartTime } from '../../engine/processes/process-tree.js'
import type { Verdict } from '../../engine/verdict.js'
import { validateVerdict } from '../../reporters/index.js'
import { parseSelectionRecord } from '../../selectors/index.js'
import { shortenLoad } from '../support/quick-load.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const bin = path.join(root, 'bin/vigil.js')

let work: string
let shop: string
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'vigil-ci-runs-test-'))
  shop = path.join(work, 'shop')
  cpSync(path.join(root, 'samples/shop'), shop, { recursive: true })
  // The shop's bus client comes from the installed packages, as in a real project.
  symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'), 'dir')
  shortenLoad(shop)
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

function vigil(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: shop,
        env: { PATH: process.env.PATH ?? '', HOME: work, TMPDIR: work, NO_COLOR: '1' },
        timeout: 150_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

const read = (file: string) => readFileSync(file, 'utf8')
const json = <T>(file: string) => JSON.parse(read(file)) as T

describe('two vigil ci runs started together from one folder', () => {
  it('each writes its own folder, consistent in itself; .vigil/ci links to the whole run that finished last', async () => {
    const [faulty, clean] = await Promise.all([
      vigil(['ci', '--patch', 'changes/field-rename.patch']),
      vigil(['ci', '--patch', 'changes/docs-only.patch']),
    ])
    expect(faulty.code, faulty.stderr).toBe(1)
    expect(clean.code, clean.stderr).toBe(0)

    const runs = path.join(shop, '.vigil/runs')
    const folders = readdirSync(runs).sort()
    expect(folders).toHaveLength(2)
    const byPatch = new Map<string, { dir: string; manifest: RunManifest; code: number }>()
    for (const id of folders) {
      const dir = path.join(runs, id)
      // Only its own run's files, and no temporary file left over.
      expect(readdirSync(dir).sort()).toEqual([
        'junit.xml',
        'run.json',
        'selection.json',
        'summary.md',
        'verdict.json',
      ])
      const manifest = json<RunManifest>(path.join(dir, 'run.json'))
      const verdict = json<Verdict>(path.join(dir, 'verdict.json'))
      const record = parseSelectionRecord(json(path.join(dir, 'selection.json')), 'selection.json')
      const junit = new XMLParser({ ignoreAttributes: false }).parse(read(path.join(dir, 'junit.xml'))) as {
        testsuites: { '@_failures': string; '@_tests': string }
      }
      const summary = read(path.join(dir, 'summary.md'))
      expect(validateVerdict(verdict).valid).toBe(true)
      // One run id everywhere: the folder, the manifest, the verdict, the summary.
      expect(manifest.runId).toBe(id)
      expect(verdict.identity.runId).toBe(id)
      expect(summary).toContain(id)
      // The selection is the verdict's, for the same diff; the exit code is the verdict's.
      expect(verdict.selection?.diffHash).toBe(record.diff.hash)
      expect(verdict.selection?.plans.map((p) => p.name)).toEqual(record.plans.map((p) => p.name))
      expect(verdict.identity.patch).toBe(record.diff.file)
      expect(manifest).toMatchObject({
        status: 'finished',
        exitCode: verdict.exitCode,
        verdict: verdict.status,
      })
      expect(Number(junit.testsuites['@_failures']) > 0).toBe(verdict.status === 'fail')
      expect(summary).toContain(verdict.status.toUpperCase())
      byPatch.set(record.diff.file!, { dir, manifest, code: verdict.exitCode })
    }
    const rename = byPatch.get('changes/field-rename.patch')!
    const docs = byPatch.get('changes/docs-only.patch')!
    expect(rename.code).toBe(faulty.code)
    expect(docs.code).toBe(clean.code)
    expect(
      json<{ diff: { files: Array<{ path: string }> } }>(
        path.join(rename.dir, 'selection.json'),
      ).diff.files.map((f) => f.path),
    ).toEqual(['orders/server.js'])
    expect(json<{ plans: unknown[] }>(path.join(docs.dir, 'selection.json')).plans).toEqual([])
    expect(json<Verdict>(path.join(docs.dir, 'verdict.json')).plans).toEqual([])

    // .vigil/ci is a link to one whole run: the one that finished last.
    const out = path.join(shop, '.vigil/ci')
    expect(lstatSync(out).isSymbolicLink()).toBe(true)
    const last = [rename, docs].sort(
      (a, b) => Date.parse(b.manifest.finishedAt!) - Date.parse(a.manifest.finishedAt!),
    )[0]!
    expect(realpathSync(out)).toBe(realpathSync(last.dir))
    expect(json<Verdict>(path.join(out, 'verdict.json')).identity.runId).toBe(path.basename(last.dir))
    expect(faulty.stdout).toContain(`.vigil/ci → .vigil/runs/${path.basename(rename.dir)}`)
    expect(faulty.stdout).toContain('.vigil/ci/verdict.json')
  }, 180_000)

  it('refuses an --out folder holding other files (exit 2), and changes nothing', async () => {
    const foreign = path.join(shop, 'reports')
    mkdirSync(foreign, { recursive: true })
    writeFileSync(path.join(foreign, 'notes.txt'), 'mine\n')
    const before = readdirSync(path.join(shop, '.vigil/runs')).sort()
    const result = await vigil(['ci', '--patch', 'changes/docs-only.patch', '--out', 'reports'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--out reports: a folder holding other files (notes.txt)')
    expect(readdirSync(foreign)).toEqual(['notes.txt'])
    expect(readdirSync(path.join(shop, '.vigil/runs')).sort()).toEqual(before)
  }, 60_000)

  it("moves an older vigil's artefact folder into the runs, then links --out; --keep-runs bounds the folders", async () => {
    const legacy = path.join(shop, 'artefacts')
    mkdirSync(legacy)
    writeFileSync(path.join(legacy, 'verdict.json'), '{"old":true}\n')
    const dayAgo = new Date(Date.now() - 86_400_000)
    utimesSync(legacy, dayAgo, dayAgo)
    const first = await vigil([
      'ci',
      '--patch',
      'changes/docs-only.patch',
      '--out',
      'artefacts',
      '--keep-runs',
      '2',
    ])
    expect(first.code, first.stderr).toBe(0)
    expect(lstatSync(legacy).isSymbolicLink()).toBe(true)
    const runs = path.join(shop, '.vigil/runs')
    // Four runs (two before, the day-old legacy folder, this one), bounded to two plus what is published.
    const left = readdirSync(runs)
    expect(left.some((n) => n.startsWith('legacy-'))).toBe(false)
    expect(left).toContain(path.basename(realpathSync(legacy)))
    expect(left).toContain(path.basename(realpathSync(path.join(shop, '.vigil/ci'))))
    expect(left.length).toBeLessThanOrEqual(3)
  }, 60_000)
})

describe('an interrupted vigil ci run', () => {
  it('still publishes its whole folder, whose manifest gives the exit code the process ended with', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'ci', '--patch', 'changes/field-rename.patch', '--out', 'stopped'],
      {
        cwd: shop,
        env: { PATH: process.env.PATH ?? '', HOME: work, TMPDIR: work, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
      if (/baseline sandbox, service orders: ready/.test(stderr) && !child.killed) child.kill('SIGTERM')
    })
    child.stdout.resume()
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`vigil ci did not stop in time\n${stderr}`))
      }, 120_000)
      child.once('close', (c) => {
        clearTimeout(timer)
        resolve(c)
      })
    })
    expect(code, stderr).toBe(143)
    const dir = realpathSync(path.join(shop, 'stopped'))
    const manifest = json<RunManifest>(path.join(dir, 'run.json'))
    const verdict = json<Verdict>(path.join(dir, 'verdict.json'))
    expect(manifest).toMatchObject({
      runId: path.basename(dir),
      status: 'finished',
      exitCode: 143,
      interrupted: 'SIGTERM',
    })
    expect(verdict.identity.runId).toBe(manifest.runId)
    expect(readdirSync(dir).sort()).toEqual([
      'junit.xml',
      'run.json',
      'selection.json',
      'summary.md',
      'verdict.json',
    ])
  }, 150_000)
})

describe('publishing a run', () => {
  it('readers never see a mix while runs are published over one another', async () => {
    const dir = mkdtempSync(path.join(work, 'publish-'))
    const runs = path.join(dir, '.vigil/runs')
    const ids = Array.from({ length: 12 }, (_, i) => `run-${i}`)
    for (const id of ids) {
      mkdirSync(path.join(runs, id), { recursive: true })
      for (const name of ['verdict.json', 'selection.json', 'junit.xml', 'summary.md'])
        writeFileSync(path.join(runs, id, name), `${id}\n`)
    }
    const out = path.join(dir, '.vigil/ci')
    await publishRun(path.join(runs, 'run-0'), out)
    const mixes: string[] = []
    let reads = 0
    const reader = setInterval(() => {
      // A reader that resolves the link once, then reads all four files from that folder.
      const folder = realpathSync(out)
      const seen = new Set(
        ['verdict.json', 'selection.json', 'junit.xml', 'summary.md'].map((n) => read(path.join(folder, n))),
      )
      reads++
      if (seen.size !== 1) mixes.push([...seen].join(' '))
    }, 0)
    try {
      for (let round = 0; round < 5; round++)
        await Promise.all(ids.map((id) => publishRun(path.join(runs, id), out)))
    } finally {
      clearInterval(reader)
    }
    expect(reads).toBeGreaterThan(0)
    expect(mixes).toEqual([])
    expect(ids).toContain(path.basename(realpathSync(out)))
    // Only the link: no temporary link left beside it.
    expect(readdirSync(path.dirname(out)).sort()).toEqual(['ci', 'runs'])
  })

  it('prunes the oldest folders beyond the bound, never a live run, a published one, or a young unnamed one', async () => {
    const dir = mkdtempSync(path.join(work, 'prune-'))
    const runs = path.join(dir, 'runs')
    const make = (id: string, minutesAgo: number, manifest: Partial<RunManifest> | undefined) => {
      mkdirSync(path.join(runs, id), { recursive: true })
      const at = new Date(Date.now() - minutesAgo * 60_000).toISOString()
      if (manifest)
        writeFileSync(
          path.join(runs, id, 'run.json'),
          JSON.stringify({
            runId: id,
            status: 'finished',
            startedAt: at,
            finishedAt: at,
            owner: { pid: 1 },
            ...manifest,
          }),
        )
    }
    for (let i = 0; i < 8; i++) make(`old-${i}`, 100 + i, {})
    make('newest', 1, {})
    make('live-but-old', 500, {
      status: 'running',
      owner: { pid: process.pid, startTime: processStartTime(process.pid) },
    })
    make('dead-running', 400, { status: 'running', owner: { pid: process.pid, startTime: -1 } })
    make('published-old', 600, { out: path.join(dir, 'ci') })
    make('young-unnamed', 0, undefined)
    await publishRun(path.join(runs, 'published-old'), path.join(dir, 'ci'))
    const deleted = await pruneRuns(runs, 3, [path.join(runs, 'newest')])
    const left = readdirSync(runs).sort()
    // The three newest (young-unnamed, newest, old-0), and the locked ones.
    expect(left).toEqual(['live-but-old', 'newest', 'old-0', 'published-old', 'young-unnamed'])
    expect(deleted.sort()).toEqual([
      'dead-running',
      'old-1',
      'old-2',
      'old-3',
      'old-4',
      'old-5',
      'old-6',
      'old-7',
    ])
    // A second pruner at the same time finds nothing more to do, and fails on nothing.
    expect(await Promise.all([pruneRuns(runs, 3, []), pruneRuns(runs, 3, [])])).toEqual([[], []])
  })

  it('writes a file asked for inside --out into the run folder instead, not through the link', () => {
    const files = artefactPaths({ cwd: '/p', runId: 'r1', junit: '.vigil/ci/vigil.xml', env: {} })
    expect(files).toMatchObject({
      runDir: '/p/.vigil/runs/r1',
      out: '/p/.vigil/ci',
      verdict: '/p/.vigil/runs/r1/verdict.json',
      junit: '/p/.vigil/runs/r1/junit.xml',
      junitCopy: '/p/.vigil/runs/r1/vigil.xml',
    })
    expect(ciReporterSpecs(files, ['json:.vigil/ci/extra.json', 'markdown:pr.md'], '/p')).toEqual([
      'console',
      'json:/p/.vigil/runs/r1/verdict.json',
      'junit:/p/.vigil/runs/r1/junit.xml',
      'junit:/p/.vigil/runs/r1/vigil.xml',
      'markdown:/p/.vigil/runs/r1/summary.md',
      'json:/p/.vigil/runs/r1/extra.json',
      'markdown:/p/pr.md',
    ])
  })
})
