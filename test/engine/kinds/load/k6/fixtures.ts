/** Recorded real k6 data kept in the repository (`test/fixtures/k6/`, origin of each file in its SOURCE.md). */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const K6_FIXTURES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../fixtures/k6',
)

export function k6Fixture(...parts: string[]): string {
  const file = path.join(K6_FIXTURES, ...parts)
  if (!existsSync(file)) {
    throw new Error(
      `k6 fixture ${path.join(...parts)} missing: expected test/fixtures/k6/${parts.join('/')} (see SOURCE.md there)`,
    )
  }
  return file
}
