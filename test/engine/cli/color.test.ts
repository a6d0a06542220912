import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { colorEnabled } from '../../../plans/color.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
let dir: string

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-color-'))
  mkdirSync(path.join(dir, 'plans'))
  writeFileSync(
    path.join(dir, 'plans', 'orders.md'),
    '---\nname: orders\ntitle: Orders\nselectionHint: Validates the orders API and its schema.\n---\n\n# Orders\n',
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** `vigil plans list` in the temporary project, with these variables added to a colourless environment. */
function plansList(env: Record<string, string>): Promise<string> {
  const base = { ...process.env }
  for (const name of ['NO_COLOR', 'FORCE_COLOR', 'TERM']) delete base[name]
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(repo, 'bin/vigil.js'), 'plans', 'list', 'plans'],
      { cwd: dir, timeout: 25_000, env: { ...base, ...env } },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    )
  })
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[/

describe('one colour rule for the commands and the reporters', () => {
  it.each([
    [{}, false, false],
    [{}, true, true],
    [{ TERM: 'dumb' }, true, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ NO_COLOR: '1', FORCE_COLOR: '1' }, true, false],
  ])('%j on a terminal: %s → %s', (env, tty, expected) => {
    expect(colorEnabled(env, tty)).toBe(expected)
  })

  it('vigil plans list colours by the same rule: FORCE_COLOR, and an empty NO_COLOR does not count', async () => {
    expect(await plansList({})).not.toMatch(ANSI)
    expect(await plansList({ FORCE_COLOR: '1' })).toMatch(ANSI)
    expect(await plansList({ FORCE_COLOR: '1', NO_COLOR: '' })).toMatch(ANSI)
    expect(await plansList({ FORCE_COLOR: '1', NO_COLOR: '1' })).not.toMatch(ANSI)
  })
})
