/**
 * `vigil plans lint` on the options a check block may set to judge a change fairly — declared status
 * transitions, sides, non-blocking checks, adversarial isolation — each bad value reported at its
 * `file:line:col`, with the engine's own block schemas.
 */
import { describe, expect, it } from 'vitest'
import { formatDiagnostic, parsePlanFile } from '../../../plans/index.js'
import { checkSchemas } from '../../../engine/run/load-plans.js'

function lint(block: string, kind = 'contract'): string[] {
  const text = `---
name: options
title: Options
selectionHint: Options of check blocks, linted where they are written.
---

\`\`\`${kind}
${block}
\`\`\`
`
  const parsed = parsePlanFile(text, {
    file: 'plans/options.md',
    dir: process.cwd(),
    checkSchemas: checkSchemas(),
  })
  return parsed.diagnostics.map(formatDiagnostic)
}

describe('check options are validated when plans load', () => {
  const cases: Array<{ name: string; kind?: string; block: string; lines: string[] }> = [
    {
      name: 'a declared status transition',
      block: `request: GET /x\ncompare: { allowStatus: ['404->400', '5xx->503'] }`,
      lines: [],
    },
    {
      name: 'a status transition that is not FROM->TO',
      block: `request: GET /x\ncompare:\n  allowStatus: ['404->400', '404-400']`,
      lines: [
        `plans/options.md:10:29 contract: compare.allowStatus[1] must be a status transition 'FROM->TO' of codes or classes, such as '404->400' or '5xx->503', got "404-400"`,
      ],
    },
    {
      name: 'a noiseClass severity',
      block: `request: GET /x\ncompare: { noiseClass: loud }`,
      lines: [
        'plans/options.md:9:24 contract: compare.noiseClass must be one of error, warning, info, ignore, got "loud"',
      ],
    },
  ]
  it.each(cases)('$name', ({ kind, block, lines }) => {
    expect(lint(block, kind)).toEqual(lines)
  })
})

describe('blocking: false on a check, whatever its kind', () => {
  function parse(block: string, kind = 'contract') {
    const text = `---\nname: options\ntitle: Options\nselectionHint: Options of check blocks, linted where they are written.\n---\n\n\`\`\`${kind}\n${block}\n\`\`\`\n`
    return parsePlanFile(text, { file: 'plans/options.md', dir: process.cwd(), checkSchemas: checkSchemas() })
  }

  it('is lifted out of the block: the kind sees its own parameters only', () => {
    for (const kind of ['contract', 'e2e', 'load', 'adversarial']) {
      const block =
        kind === 'e2e'
          ? 'blocking: false\nsteps: [{ name: a, request: GET /x }]'
          : kind === 'adversarial'
            ? 'blocking: false\nrequests: [{ path: /x }]'
            : 'blocking: false\nrequest: GET /x'
      const parsed = parse(block, kind)
      expect(parsed.diagnostics.map(formatDiagnostic), kind).toEqual([])
      const check = parsed.plan!.checks[0]!
      expect(check.blocking).toBe(false)
      expect(check.params).not.toHaveProperty('blocking')
    }
  })

  it('true is the default and leaves no mark', () => {
    expect(parse('blocking: true\nrequest: GET /x').plan!.checks[0]!.blocking).toBeUndefined()
  })

  it('must be true or false', () => {
    expect(lint('request: GET /x\nblocking: "no"')).toEqual([
      'plans/options.md:9:11 contract: blocking must be true or false, got "no"',
    ])
  })
})

describe('sides', () => {
  it('contract: both or candidate', () => {
    expect(lint('sides: both\nrequest: GET /x')).toEqual([])
    expect(lint('request: GET /x\nsides: yes')).toEqual([
      'plans/options.md:9:8 contract: sides must be one of candidate, both, got "yes"',
    ])
  })

  it('e2e: both or candidate; a step cannot pick a sandbox when both sides run it', () => {
    expect(lint('sides: both\nsteps: [{ name: a, request: GET /x }]', 'e2e')).toEqual([])
    expect(lint('sides: all\nsteps: [{ name: a, request: GET /x }]', 'e2e')).toEqual([
      'plans/options.md:8:8 e2e: sides must be one of candidate, both, got "all"',
    ])
    expect(lint('sides: both\nsteps:\n  - { name: a, request: GET /x, sandbox: baseline }', 'e2e')).toEqual([
      'plans/options.md:10:42 e2e: steps[0].sandbox is not allowed here: with sides: both every step runs on both sandboxes; remove "sandbox"',
    ])
  })
})

describe('adversarial isolation', () => {
  it('is none or sandbox', () => {
    expect(lint('requests: [{ path: /x }]\nisolation: sandbox', 'adversarial')).toEqual([])
    expect(lint('requests: [{ path: /x }]\nisolation: copy', 'adversarial')).toEqual([
      'plans/options.md:9:12 adversarial: isolation must be one of none, sandbox, got "copy"',
    ])
  })
})

describe('adversarial reset', () => {
  it('is a request or a command, nothing else', () => {
    expect(lint('requests: [{ path: /x }]\nreset: { request: POST /__reset }', 'adversarial')).toEqual([])
    expect(lint('requests: [{ path: /x }]\nreset: { run: ./reset.sh, timeout: 10s }', 'adversarial')).toEqual(
      [],
    )
    expect(
      lint('requests: [{ path: /x }]\nreset: { request: POST /__reset, run: ./reset.sh }', 'adversarial'),
    ).toEqual([
      'plans/options.md:9:34 adversarial: unknown property "run" in reset; expected one of request, service, headers, expect, timeout',
    ])
  })
})
