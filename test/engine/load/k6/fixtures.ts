/** The recorded k6 fixtures live beside the clone (`../shared/fixtures/k6`); tests fail clearly without them. */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const K6_FIXTURES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../../shared/fixtures/k6',
)

export function k6Fixture(...parts: string[]): string {
  const file = path.join(K6_FIXTURES, ...parts)
  if (!existsSync(file)) {
    throw new Error(
      `k6 fixture ${path.join(...parts)} missing: expected ../shared/fixtures/k6 beside the repository (see its SOURCE.md)`,
    )
  }
  return file
}
