/**
 * The compact verdict of a warm session's iteration: an error shows the last lines of its log tail, so the
 * agent reading it sees why a service did not start (its stack trace), not only that it did not.
 */
import { describe, expect, it } from 'vitest'
import { renderCompact } from '../../reporters/index.js'
import type { Verdict } from '../../engine/verdict.js'
import { verdict } from './fixture.js'

describe('renderCompact', () => {
  it("shows a run error's and an errored check's log tail under it", () => {
    const text = renderCompact(verdict)
    expect(text).toContain(
      [
        '  ✗ service payments exited before it was ready',
        '    log tail:',
        '      | starting payments',
        '      | Error: EADDRINUSE',
      ].join('\n'),
    )
    expect(text).toContain(
      [
        `      connect ECONNREFUSED 127.0.0.1:4003 <payments>`,
        '      log tail:',
        '        | payments listening on 4003',
      ].join('\n'),
    )
  })

  it('keeps the last 15 lines of a long tail', () => {
    const logTail = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`)
    const started: Verdict = {
      ...verdict,
      plans: [],
      errors: [
        {
          code: 'VIGIL_SANDBOX_START',
          message: 'candidate sandbox, service orders: exited with code 1 before it was ready',
          logTail,
        },
      ],
    }
    const shown = renderCompact(started)
      .split('\n')
      .filter((l) => /^ {6}\| /.test(l))
      .map((l) => l.slice(8))
    expect(shown).toEqual(['… (25 earlier lines)', ...logTail.slice(-15)])
  })
})
