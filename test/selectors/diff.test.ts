import { describe, expect, it } from 'vitest'
import { parseDiff, pathMapper } from '../../selectors/index.js'
import { unquote } from '../../selectors/diff.js'
import { modify } from './fixtures.js'

describe('parseDiff', () => {
  it('reads a modified file with its hunk and counts', () => {
    const diff = parseDiff(
      modify('orders/server.js', ['    totalCents,'], ['    total_cents: totalCents,', '    // x']),
    )
    expect(diff.files).toEqual([
      {
        path: 'orders/server.js',
        status: 'modified',
        binary: false,
        additions: 2,
        deletions: 1,
        hunks: [
          {
            header: '@@ -1,2 +1,3 @@',
            lines: ['   // context', '-    totalCents,', '+    total_cents: totalCents,', '+    // x'],
          },
        ],
      },
    ])
    expect(diff.hash).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(diff.warnings).toEqual([])
  })

  it('reads a pure rename (no hunks) followed by another file without merging them', () => {
    const text =
      'diff --git a/orders/old.js b/orders/new.js\nsimilarity index 100%\nrename from orders/old.js\nrename to orders/new.js\n' +
      modify('catalog/server.js', ['a'], ['b'])
    const { files } = parseDiff(text)
    expect(files.map((f) => [f.path, f.oldPath, f.status, f.hunks.length])).toEqual([
      ['orders/new.js', 'orders/old.js', 'renamed', 0],
      ['catalog/server.js', undefined, 'modified', 1],
    ])
  })

  it('reads a rename with changes', () => {
    const text =
      'diff --git a/a/x.js b/b/y.js\nsimilarity index 80%\nrename from a/x.js\nrename to b/y.js\nindex 1..2 100644\n' +
      '--- a/a/x.js\n+++ b/b/y.js\n@@ -1 +1 @@\n-old\n+new\n'
    const [file] = parseDiff(text).files
    expect(file).toMatchObject({
      path: 'b/y.js',
      oldPath: 'a/x.js',
      status: 'renamed',
      additions: 1,
      deletions: 1,
    })
  })

  it('reads a copy', () => {
    const text = 'diff --git a/x.js b/y.js\nsimilarity index 100%\ncopy from x.js\ncopy to y.js\n'
    expect(parseDiff(text).files[0]).toMatchObject({ path: 'y.js', oldPath: 'x.js', status: 'copied' })
  })

  it('reads new and deleted files, using the old path for a deletion', () => {
    const text =
      'diff --git a/new.js b/new.js\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/new.js\n@@ -0,0 +1,2 @@\n+a\n+b\n' +
      'diff --git a/gone.js b/gone.js\ndeleted file mode 100644\nindex 1111111..0000000\n--- a/gone.js\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n'
    const { files } = parseDiff(text)
    expect(files.map((f) => [f.path, f.status, f.additions, f.deletions, f.mode])).toEqual([
      ['new.js', 'added', 2, 0, { new: '100644' }],
      ['gone.js', 'deleted', 0, 1, { old: '100644' }],
    ])
  })

  it('reads an empty new file (header only)', () => {
    const text = 'diff --git a/empty.txt b/empty.txt\nnew file mode 100644\nindex 0000000..e69de29\n'
    expect(parseDiff(text).files).toEqual([
      {
        path: 'empty.txt',
        status: 'added',
        binary: false,
        additions: 0,
        deletions: 0,
        hunks: [],
        mode: { new: '100644' },
      },
    ])
  })

  it('marks binary files, both git forms, without hunks', () => {
    const text =
      'diff --git a/logo.png b/logo.png\nindex 1..2 100644\nBinary files a/logo.png and b/logo.png differ\n' +
      'diff --git a/font.woff b/font.woff\nnew file mode 100644\nindex 0..3\nGIT binary patch\nliteral 12\nTcmZ?wbhEHbRA5kG;9vj%5C8%I\n\nliteral 0\nHcmV?d00001\n\n'
    const { files, warnings } = parseDiff(text)
    expect(files.map((f) => [f.path, f.status, f.binary, f.hunks.length])).toEqual([
      ['logo.png', 'modified', true, 0],
      ['font.woff', 'added', true, 0],
    ])
    expect(warnings).toEqual([])
  })

  it('reads a mode change without content', () => {
    const text = 'diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n'
    expect(parseDiff(text).files[0]).toMatchObject({
      path: 'run.sh',
      status: 'modified',
      mode: { old: '100644', new: '100755' },
    })
  })

  it('unquotes paths git quoted', () => {
    expect(unquote('"a/t\\303\\251st\\tx.js"')).toBe('a/tést\tx.js')
    const text =
      'diff --git "a/my file.js" "b/my file.js"\nindex 1..2 100644\n--- "a/my file.js"\n+++ "b/my file.js"\n@@ -1 +1 @@\n-a\n+b\n'
    expect(parseDiff(text).files[0]?.path).toBe('my file.js')
  })

  it('splits an unquoted header with spaces when both halves agree', () => {
    const text = 'diff --git a/my dir/f.js b/my dir/f.js\nold mode 100644\nnew mode 100755\n'
    expect(parseDiff(text).files[0]?.path).toBe('my dir/f.js')
  })

  it('reads plain unified diffs with several files and CRLF line endings', () => {
    const text =
      '--- a/x.js\t2024-01-01\r\n+++ b/x.js\t2024-01-02\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\n--- y.js\n+++ y.js\n@@ -1 +1,2 @@\n a\n+c\n'
    const { files } = parseDiff(text)
    expect(files.map((f) => [f.path, f.additions, f.deletions])).toEqual([
      ['x.js', 1, 1],
      ['y.js', 1, 0],
    ])
  })

  it('reads a format-patch email (preamble and signature) leniently and says so', () => {
    const text =
      'From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n---\n x.js | 2 +-\n\n' +
      modify('x.js', ['a'], ['b']) +
      '-- \n2.43.0\n'
    const { files, warnings } = parseDiff(text)
    expect(files.map((f) => [f.path, f.additions, f.deletions])).toEqual([['x.js', 1, 1]])
    expect(warnings.join()).toMatch(/leniently/)
  })

  it('reads a hunk whose counts lie, without throwing', () => {
    const text = 'diff --git a/x.js b/x.js\n--- a/x.js\n+++ b/x.js\n@@ -1,5 +1,5 @@\n-a\n+b\n'
    const { files, warnings } = parseDiff(text)
    expect(files[0]).toMatchObject({ path: 'x.js', additions: 1, deletions: 1 })
    expect(warnings).toHaveLength(1)
  })

  it('returns no files for an empty diff and a stable hash', () => {
    expect(parseDiff('').files).toEqual([])
    expect(parseDiff('\n\n').files).toEqual([])
    expect(parseDiff('a\r\nb').hash).toBe(parseDiff('a\nb').hash)
  })

  it('handles a very large diff (20,000 files, 200,000 lines)', () => {
    const parts: string[] = []
    for (let i = 0; i < 20_000; i++)
      parts.push(
        modify(
          `gen/f${i}.js`,
          [`old ${i}`],
          Array.from({ length: 9 }, (_, j) => `new ${i} ${j}`),
        ),
      )
    const diff = parseDiff(parts.join(''))
    expect(diff.files).toHaveLength(20_000)
    expect(diff.files[19_999]).toMatchObject({ path: 'gen/f19999.js', additions: 9, deletions: 1 })
  })

  it('maps paths to the config folder', () => {
    const text = modify('samples/shop/orders/server.js', ['a'], ['b']) + modify('engine/run.ts', ['a'], ['b'])
    const repo = parseDiff(text, { mapPath: pathMapper('samples/shop/', 'repo') }).files
    expect(repo.map((f) => [f.path, f.outside])).toEqual([
      ['orders/server.js', undefined],
      ['../../engine/run.ts', true],
    ])
    const auto = parseDiff(text, { mapPath: pathMapper('samples/shop/', 'auto') }).files
    expect(auto.map((f) => [f.path, f.outside])).toEqual([
      ['orders/server.js', undefined],
      ['engine/run.ts', undefined],
    ])
    const root = parseDiff(text, { mapPath: pathMapper('', 'repo') }).files
    expect(root.map((f) => f.path)).toEqual(['samples/shop/orders/server.js', 'engine/run.ts'])
  })
})
