import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { K6_FIXTURES, k6Fixture } from './fixtures.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..')

/** `sha256 file` rows of the table in SOURCE.md: the recorded files are kept byte for byte. */
function recordedDigests(): [string, string][] {
  const note = readFileSync(path.join(K6_FIXTURES, 'SOURCE.md'), 'utf8')
  return [...note.matchAll(/^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/gm)].map((m) => [m[1]!, m[2]!])
}

describe('recorded k6 fixtures', () => {
  it('live inside the repository, so a fresh clone with nothing beside it has them', () => {
    const relative = path.relative(ROOT, K6_FIXTURES)
    expect(relative.startsWith('..') || path.isAbsolute(relative)).toBe(false)
    expect(relative.split(path.sep)).toEqual(['test', 'fixtures', 'k6'])
  })

  it('match, byte for byte, the digest SOURCE.md records for each file', () => {
    const digests = recordedDigests()
    expect(digests.map(([file]) => file).sort()).toEqual([
      'k6-summary/schemas/metric/1.0.0/schema.json',
      'k6-summary/schemas/semver/2.0.0/schema.json',
      'k6-summary/schemas/summary/1.0.0/schema.json',
      'result.json',
    ])
    for (const [file, sha256] of digests) {
      const bytes = readFileSync(k6Fixture(...file.split('/')))
      expect(createHash('sha256').update(bytes).digest('hex'), file).toBe(sha256)
    }
  })

  it('name the missing file when one is absent', () => {
    expect(() => k6Fixture('no-such.json')).toThrow(
      /k6 fixture no-such\.json missing: expected test\/fixtures\/k6/,
    )
  })
})
