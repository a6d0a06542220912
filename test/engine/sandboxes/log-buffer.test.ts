import { describe, expect, it } from 'vitest'
import { REDACTED, Redactor } from '../../../engine/http/redact.js'
import { LogBuffer } from '../../../engine/sandboxes/log-buffer.js'

const text = (buffer: LogBuffer): string[] => buffer.entries().map((l) => `${l.stream}:${l.text}`)

describe('LogBuffer', () => {
  it('splits chunks into lines per stream, keeping partial lines until they end', () => {
    const buffer = new LogBuffer()
    buffer.write('stdout', 'one\ntw')
    buffer.write('stderr', 'err\r\n')
    buffer.write('stdout', 'o\nthr')
    expect(text(buffer)).toEqual(['stdout:one', 'stderr:err', 'stdout:two', 'stdout:thr'])
    buffer.flush()
    buffer.note('exited with code 0')
    expect(text(buffer)).toEqual([
      'stdout:one',
      'stderr:err',
      'stdout:two',
      'stdout:thr',
      'vigil:exited with code 0',
    ])
  })

  it('keeps only the newest lines, and says how many were dropped', () => {
    const buffer = new LogBuffer({ capacity: 3 })
    for (let i = 1; i <= 7; i++) buffer.write('stdout', `line ${i}\n`)
    expect(text(buffer)).toEqual(['stdout:line 5', 'stdout:line 6', 'stdout:line 7'])
    const rendered = buffer.render()
    expect(rendered[0]).toBe('(4 earlier lines dropped)')
    expect(rendered[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout line 5$/)
    expect(buffer.render(2).map((l) => l.slice(25))).toEqual(['stdout line 6', 'stdout line 7'])
  })

  it('cuts very long lines, even ones that never end', () => {
    const buffer = new LogBuffer({ maxLineLength: 20 })
    buffer.write('stdout', `${'x'.repeat(50)}\n`)
    buffer.write('stdout', 'y'.repeat(30))
    expect(text(buffer)).toEqual([
      `stdout:${'x'.repeat(20)}… (line cut)`,
      `stdout:${'y'.repeat(20)}… (line cut)`,
    ])
  })
})

describe('LogBuffer with a redactor', () => {
  const secret = 'log-secret-0123456789'
  const redactor = new Redactor({ secrets: [secret] })

  it('stores lines redacted, every form, before a long line is cut', () => {
    const buffer = new LogBuffer({ maxLineLength: 40, redactor })
    // The secret sits across the 40th character: cut first, its first half would stay.
    buffer.write('stderr', `${'x'.repeat(30)}${secret}\n`)
    buffer.write(
      'stdout',
      `token ${Buffer.from(`u:${secret}`).toString('base64')} ${encodeURIComponent(secret)}\n`,
    )
    expect(text(buffer)).toEqual([
      `stderr:${'x'.repeat(30)}${REDACTED}`,
      `stdout:token ${REDACTED} ${REDACTED}`,
    ])
  })

  it('redacts a line still waiting for its end when it is read', () => {
    const buffer = new LogBuffer({ redactor })
    buffer.write('stdout', `crashing with ${secret}`)
    expect(buffer.render().join('\n')).toContain(`crashing with ${REDACTED}`)
    expect(buffer.render().join('\n')).not.toContain(secret)
  })
})
