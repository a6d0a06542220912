/**
 * The warm session's fingerprints of a real temporary tree: a service's files are its globs, plus the package
 * manifests and lockfiles in the folder it runs in and above it (an upgrade touches those and installed
 * packages, never its sources); a service that says no folder gets no such files; what no service claims is
 * the rest (plans, documents).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TreeWatcher, type TreePrints } from '../../../engine/dev/files.js'

let root: string
const write = async (rel: string, text: string) => {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true })
  await writeFile(path.join(root, rel), text)
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'vigil-files-'))
  for (const [rel, text] of Object.entries({
    'package-lock.json': '{"lockfileVersion":3}',
    'README.md': '# shop',
    'services/api/package.json': '{"name":"api"}',
    'services/api/src/index.js': 'export {}',
    'services/web/package.json': '{"name":"web"}',
    'services/web/src/index.js': 'export {}',
    'tools/go.sum': 'x v1.0.0 h1:abc',
    'worker/main.js': 'export {}',
  }))
    await write(rel, text)
}, 30_000)
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('a warm session’s fingerprints', () => {
  it('count the package files where a service runs and above it as its files, whatever its globs', async () => {
    const watcher = new TreeWatcher(root, {
      api: { root, globs: ['services/api/src/**'], cwd: 'services/api' },
      web: { root, globs: ['services/web/src/**'], cwd: 'services/web' },
      // No folder given: its globs alone.
      worker: { root, globs: ['worker/**'] },
    })
    let last: TreePrints = await watcher.prints()
    const after = async (rel: string, text: string) => {
      await write(rel, text)
      const before = last
      last = await watcher.prints()
      return {
        services: Object.keys(last.services).filter((n) => last.services[n] !== before.services[n]),
        rest: last.rest !== before.rest,
        changed: last.changed,
      }
    }

    // The lockfile at the top is above both folders: both restart; the worker runs elsewhere.
    expect(await after('package-lock.json', '{"lockfileVersion":3,"packages":{}}')).toMatchObject({
      services: ['api', 'web'],
      rest: false,
      changed: { api: ['package-lock.json'], web: ['package-lock.json'], worker: [] },
    })
    // One service's manifest is that service's alone.
    expect(await after('services/api/package.json', '{"name":"api","version":"2.0.0"}')).toMatchObject({
      services: ['api'],
      rest: false,
    })
    // A package file in a folder beside them is no service's.
    expect(await after('tools/go.sum', 'x v1.0.1 h1:def')).toMatchObject({ services: [], rest: true })
    expect(await after('README.md', '# the shop')).toMatchObject({ services: [], rest: true })
    expect(await after('services/web/src/index.js', 'export const x = 1')).toMatchObject({
      services: ['web'],
      rest: false,
    })
  })
})
