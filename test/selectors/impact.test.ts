import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDiff } from '../../selectors/index.js'
import {
  buildImpactMap,
  changedOldLines,
  innermost,
  lineHashes,
  matchImpact,
  readImpactMap,
  renderImpactMap,
  type ImpactMap,
} from '../../selectors/impact.js'
import { parseLcov, readV8Coverage } from '../../selectors/impact-coverage.js'
import { modify } from './fixtures.js'

const run = promisify(execFile)

const SOURCE = [
  'function outer(n) {', // 1
  '  const inner = () =>', // 2
  '    n * 2', // 3
  '  return n > 10 ? inner() : n', // 4
  '}', // 5
  'function unused() {', // 6
  '  return 0', // 7
  '}', // 8
  'for (let i = 0; i < 3; i++) outer(i)', // 9
  'if (process.argv[2] === "big") outer(20)', // 10
  '',
].join('\n')

describe('impact map', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-impact-test-'))
    await writeFile(path.join(dir, 'app.js'), SOURCE)
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('records a real process through NODE_V8_COVERAGE and attributes functions beyond start-up', async () => {
    const cover = async (name: string, args: string[]) => {
      const out = path.join(dir, name)
      await run(process.execPath, [path.join(dir, 'app.js'), ...args], {
        env: { ...process.env, NODE_V8_COVERAGE: out },
      })
      return readV8Coverage(out)
    }
    const startup = await cover('startup', [])
    const big = await cover('big', ['big'])
    expect(big.find((f) => f.name === 'inner')).toMatchObject({ lines: [2, 3], count: 1 })
    expect(startup.find((f) => f.name === 'outer')).toMatchObject({ lines: [1, 5], count: 3 })
    const map = await buildImpactMap({
      root: dir,
      startup,
      recorded: [{ plan: 'big-numbers', functions: big }],
    })
    expect(map.files['app.js']!.functions).toEqual([
      { name: 'outer', lines: [1, 5], plans: ['big-numbers'] },
      { name: 'inner', lines: [2, 3], plans: ['big-numbers'] },
    ])
    // Sorted, one function per line, and read back as written.
    const text = renderImpactMap(map)
    expect(text).toContain('\n        {"name":"inner","lines":[2,3],"plans":["big-numbers"]}\n')
    await writeFile(path.join(dir, 'vigil.impact.json'), text)
    expect(await readImpactMap(path.join(dir, 'vigil.impact.json'))).toEqual(map)

    // A change inside `inner` selects its plan; one in `unused` is code no plan exercises.
    const inInner = await matchImpact(
      map,
      parseDiff(modify('app.js', ['    n * 2'], ['    n * 3'], ['  const inner = () =>'])),
      dir,
    )
    expect(inInner.selected).toEqual([
      { name: 'big-numbers', source: 'impact', reason: 'impact map: app.js:2 is in inner (2-3)' },
    ])
    const text2 =
      'diff --git a/app.js b/app.js\n--- a/app.js\n+++ b/app.js\n@@ -7 +7 @@\n-  return 0\n+  return 1\n'
    const inUnused = await matchImpact(map, parseDiff(text2), dir)
    expect(inUnused.selected).toEqual([])
    expect(inUnused.uncoveredLines).toEqual(['app.js:7-7'])
    const unknown = await matchImpact(map, parseDiff(modify('other.js', ['a'], ['b'])), dir)
    expect(unknown.uncoveredFiles).toEqual(['other.js'])

    // The folder holding the change itself (a committed change checked against its base): the file is
    // no longer as recorded, but the diff's old side is, line for line, so the map is not stale for it.
    const changed = path.join(dir, 'changed')
    await mkdir(changed, { recursive: true })
    await writeFile(path.join(changed, 'app.js'), SOURCE.replace('    n * 2', '    n * 3'))
    const hunk = (at: number, lines: string) =>
      parseDiff(`diff --git a/app.js b/app.js\n--- a/app.js\n+++ b/app.js\n@@ -${at},2 +${at},2 @@\n${lines}`)
    const committed = await matchImpact(
      map,
      hunk(2, '   const inner = () =>\n-    n * 2\n+    n * 3\n'),
      changed,
    )
    expect(committed.stale).toEqual([])
    expect(committed.selected).toEqual([
      { name: 'big-numbers', source: 'impact', reason: 'impact map: app.js:3 is in inner (2-3)' },
    ])
    // A diff whose old side is not the recorded file at its numbers is still stale there.
    const moved = await matchImpact(map, hunk(5, '   const inner = () =>\n-    n * 2\n+    n * 3\n'), changed)
    expect(moved.stale).toEqual(['app.js'])
  })

  it('says a stale map is stale and matches the file as a whole when that narrows the choice', async () => {
    const map: ImpactMap = {
      schemaVersion: 1,
      attribution: '',
      plans: ['a', 'b', 'c', 'd', 'e'],
      files: {
        'app.js': {
          sha256: '0'.repeat(64),
          functions: [
            { name: 'outer', lines: [1, 5], plans: ['a'] },
            { name: 'unused', lines: [6, 8], plans: ['b'] },
          ],
        },
      },
      packages: { yargs: ['a'] },
    }
    const result = await matchImpact(map, parseDiff(modify('app.js', ['x'], ['y'])), dir)
    expect(result.stale).toEqual(['app.js'])
    expect(result.selected.map((p) => p.name)).toEqual(['a', 'b'])
    expect(result.selected[0]!.reason).toMatch(/^impact map \(stale for app\.js: matched by file\)/)
    expect(result.notes[0]).toMatch(/stale for 1 file\(s\) \(app\.js\).*vigil impact record/)
    // A file most recorded plans run narrows nothing: left to the other layers, and said.
    const most = await matchImpact(
      { ...map, plans: ['a', 'b', 'c'] },
      parseDiff(modify('app.js', ['x'], ['y'])),
      dir,
    )
    expect(most.selected).toEqual([])
    expect(most.notes).toContainEqual(
      expect.stringMatching(/hunks of app\.js could not be placed.*does not narrow/),
    )
    const bump = modify('package.json', ['    "yargs": "^16.0.0",'], ['    "yargs": "^17.0.0",'])
    expect((await matchImpact(map, parseDiff(bump), dir)).selected).toEqual([
      { name: 'a', source: 'impact', reason: 'impact map: runs package yargs (package.json)' },
    ])
  })

  it('places the hunks of a stale file by their lines, and matches them at their recorded places', async () => {
    // Recorded: SOURCE. Since then three lines were added at the top, so the diff's line numbers are off by 3.
    const map: ImpactMap = {
      schemaVersion: 1,
      attribution: '',
      plans: ['a', 'b', 'c'],
      files: {
        'app.js': {
          sha256: '0'.repeat(64),
          lines: lineHashes(SOURCE),
          functions: [
            { name: 'outer', lines: [1, 5], plans: ['a', 'b', 'c'] },
            { name: 'inner', lines: [2, 3], plans: ['a'] },
            { name: 'unused', lines: [6, 8], plans: ['b'] },
          ],
        },
      },
      packages: {},
    }
    const diff = parseDiff(
      'diff --git a/app.js b/app.js\n--- a/app.js\n+++ b/app.js\n@@ -4,5 +4,5 @@\n' +
        ' function outer(n) {\n  const inner = () =>\n-    n * 2\n+    n * 3\n   return n > 10 ? inner() : n\n }\n',
    )
    const result = await matchImpact(map, diff, dir)
    expect(result.stale).toEqual(['app.js'])
    expect(result.selected).toEqual([
      {
        name: 'a',
        source: 'impact',
        reason: 'impact map (stale for app.js: hunk placed by its lines): inner (2-3)',
      },
    ])
    // Lines found nowhere in the recording: not placed (and here, named: outer).
    const elsewhere = parseDiff(
      'diff --git a/app.js b/app.js\n--- a/app.js\n+++ b/app.js\n@@ -40,3 +40,3 @@\n' +
        ' const q = 1\n-outer(q)\n+outer(q + 1)\n const r = 2\n',
    )
    const named = await matchImpact(map, elsewhere, dir)
    expect(named.selected.map((p) => p.reason)).toEqual([
      'impact map (stale for app.js: matched by name): outer',
      'impact map (stale for app.js: matched by name): outer',
      'impact map (stale for app.js: matched by name): outer',
    ])
  })

  it('reads changed old-side lines, and keeps the innermost function that holds a change', () => {
    const hunks = parseDiff(
      'diff --git a/f.js b/f.js\n--- a/f.js\n+++ b/f.js\n@@ -10,4 +10,5 @@\n a\n-b\n+B\n c\n+d\n e\n',
    ).files[0]!.hunks
    expect(changedOldLines(hunks)).toEqual([
      [11, 11],
      [12, 13],
    ])
    const fns = [
      { name: 'outer', lines: [1, 20] as [number, number], plans: ['x'] },
      { name: 'inner', lines: [10, 12] as [number, number], plans: ['y'] },
    ]
    expect(innermost(fns, 11, 11).map((f) => f.name)).toEqual(['inner'])
    expect(innermost(fns, 11, 14).map((f) => f.name)).toEqual(['outer', 'inner'])
  })

  it('reads LCOV, the contract for other runtimes, and says where it cannot', () => {
    const lcov =
      'TN:\nSF:app/views.py\nFN:3,list_items\nFN:10,create_item\nFNDA:4,list_items\nFNDA:0,create_item\nDA:3,4\nDA:14,0\nend_of_record\n'
    expect(parseLcov(lcov, '/srv')).toEqual([
      { file: '/srv/app/views.py', name: 'list_items', lines: [3, 9], count: 4 },
      { file: '/srv/app/views.py', name: 'create_item', lines: [10, 14], count: 0 },
    ])
    expect(() => parseLcov('SF:a.py\nFN:x\n', '/srv', 'cov/lcov.info')).toThrow(
      /^cov\/lcov\.info:2:1 LCOV: cannot read "FN:x"/,
    )
  })

  it('rejects a file that is not a map with its name', async () => {
    const bad = path.join(dir, 'bad.json')
    await writeFile(bad, '{"files": 3}')
    await expect(readImpactMap(bad)).rejects.toThrow(/bad\.json:1:1 not an impact map/)
    expect(await readImpactMap(path.join(dir, 'none.json'))).toBeUndefined()
    expect(await readFile(path.join(dir, 'app.js'), 'utf8')).toBe(SOURCE)
  })
})
