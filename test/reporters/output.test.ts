/**
 * Report files are replaced atomically: a reader (another CI step, an agent polling for the verdict)
 * sees the previous document or the new one, whole, never an empty or half-written file, however many
 * writers race on the same path.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { writeDocument, writeFileAtomicSync } from '../../reporters/output.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-output-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('writeDocument to a file', () => {
  it('never shows a reader a partial document, and leaves no temporary file', async () => {
    const file = path.join(dir, 'reports', 'junit.xml')
    // Large enough to be written in several chunks.
    const docs = Array.from(
      { length: 6 },
      (_, i) => `<doc n="${i}">${String(i).repeat(3 * 1024 * 1024)}</doc>\n`,
    )
    let reads = 0
    const torn: number[] = []
    const reader = setInterval(() => {
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch {
        return // not written yet
      }
      reads++
      if (!docs.includes(text)) torn.push(text.length)
    }, 0)
    try {
      for (let round = 0; round < 3; round++)
        await Promise.all(docs.map((doc) => writeDocument({ kind: 'file', path: file, append: false }, doc)))
    } finally {
      clearInterval(reader)
    }
    expect(reads).toBeGreaterThan(0)
    expect(torn).toEqual([])
    expect(docs).toContain(readFileSync(file, 'utf8'))
    expect(readdirSync(path.dirname(file))).toEqual(['junit.xml'])
  }, 60_000)

  it('appends when asked (the GitHub step summary), keeping what was there', async () => {
    const file = path.join(dir, 'step-summary.md')
    writeFileAtomicSync(file, '# earlier step\n')
    await writeDocument({ kind: 'file', path: file, append: true }, '# vigil\n')
    expect(readFileSync(file, 'utf8')).toBe('# earlier step\n# vigil\n')
  })

  it('fails when the path is a folder, leaving the folder and no temporary file behind', async () => {
    const folder = path.join(dir, 'a-folder')
    mkdirSync(path.join(folder, 'inside'), { recursive: true })
    const error = await writeDocument({ kind: 'file', path: folder, append: false }, 'x').catch(
      (e: unknown) => e,
    )
    expect((error as NodeJS.ErrnoException).code).toMatch(/EISDIR|ENOTEMPTY|EEXIST/)
    expect(readdirSync(folder)).toEqual(['inside'])
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })
})
