/** The one reader of a change: what is a diff, what is an empty diff, and what is not a diff at all. */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveChange } from '../../engine/ci/change.js'
import { DiffError, readChange } from '../../selectors/index.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-input-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const section =
  'diff --git a/orders/server.js b/orders/server.js\n--- a/orders/server.js\n+++ b/orders/server.js\n@@ -1 +1 @@\n-a\n+b\n'

/** Text that is not a diff, and the reason the reader gives. */
const notDiffs: Array<[string, string, string]> = [
  ['prose', 'please review my change\n', 'no "diff --git" or "---/+++" file sections found'],
  [
    'HTML',
    '<!doctype html><html><body><h1>404 Not Found</h1></body></html>\n',
    'no "diff --git" or "---/+++" file sections found',
  ],
  ['JSON', '{ "version": 1, "plans": [] }\n', 'no "diff --git" or "---/+++" file sections found'],
  ['binary', `GIF89a\u0000\u0001\u0002${'\u0000'.repeat(40)}\u00ff\n`, 'binary data (NUL bytes)'],
  [
    'a UTF-16 diff read as UTF-8',
    Buffer.from(`\ufeff${section}`, 'utf16le').toString('utf8'),
    'binary data (NUL bytes)',
  ],
  [
    'a git header with no hunks',
    'diff --git a/orders/server.js b/orders/server.js\n',
    'orders/server.js has a header but no hunks (a truncated diff?)',
  ],
  [
    '---/+++ with no hunks',
    '--- a/orders/server.js\n+++ b/orders/server.js\n',
    'orders/server.js has a header but no hunks (a truncated diff?)',
  ],
  [
    'a hunk with no file header',
    '@@ -1 +1 @@\n-a\n+b\n',
    'a hunk with no "diff --git" or "---/+++" header naming its file',
  ],
  [
    'an index line only',
    'diff --git a/x b/x\nindex 83db48f..bf269f4 100644\n',
    'x has a header but no hunks (a truncated diff?)',
  ],
]

/** Diffs that are legal, and how many files each changes. */
const diffs: Array<[string, string, number]> = [
  ['an empty diff (no changes)', '', 0],
  ['blank lines only (no changes)', '\n  \n\n', 0],
  ['a git diff', section, 1],
  ['a git diff with CRLF line ends', section.replace(/\n/g, '\r\n'), 1],
  ['a git diff with a byte order mark', `\ufeff${section}`, 1],
  [
    'a plain diff -u',
    '--- orders/server.js\t2024-01-01\n+++ orders/server.js\t2024-01-02\n@@ -1 +1 @@\n-a\n+b\n',
    1,
  ],
  [
    'format-patch mail',
    `From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\n---\n orders/server.js | 2 +-\n\n${section}-- \n2.39.0\n`,
    1,
  ],
  ['a new empty file', 'diff --git a/e b/e\nnew file mode 100644\nindex 0000000..e69de29\n', 1],
  ['a pure rename', 'diff --git a/a.js b/b.js\nsimilarity index 100%\nrename from a.js\nrename to b.js\n', 1],
  ['a mode change', 'diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n', 1],
  [
    'a binary change',
    'diff --git a/logo.png b/logo.png\nindex 1..2 100644\nBinary files a/logo.png and b/logo.png differ\n',
    1,
  ],
]

describe('reading a change', () => {
  it.each(notDiffs)('%s is not a diff: a DiffError (exit 2) saying why', async (_name, text, reason) => {
    for (const [kind, label] of [
      ['stdin', 'stdin'],
      ['inline', 'diff'],
      ['patch', '--patch change.patch'],
      ['file', 'change.patch'],
    ] as const) {
      const error = await readChange({ kind, text, file: 'change.patch' }, dir).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DiffError)
      expect((error as DiffError).exitCode).toBe(2)
      expect((error as Error).message).toBe(`${label}: not a unified diff (${reason})`)
    }
  })

  it.each(diffs)('%s is a diff', async (_name, text, files) => {
    const { diff } = await readChange({ kind: 'stdin', text }, dir)
    expect(diff.files).toHaveLength(files)
  })

  it('vigil ci and the MCP server read a change with the same function, so the same text gets the same answer', async () => {
    for (const [, text, reason] of notDiffs) {
      const error = await resolveChange(
        { kind: 'text', text, file: 'x.patch' },
        { configDir: dir, cwd: dir, location: undefined },
      ).catch((e: unknown) => e)
      expect((error as Error).message).toBe(`diff: not a unified diff (${reason})`)
    }
    const empty = await resolveChange(
      { kind: 'text', text: '', file: 'x.patch' },
      { configDir: dir, cwd: dir, location: undefined },
    )
    expect(empty.diff.files).toEqual([])
  })
})
