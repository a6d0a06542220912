import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { XMLParser } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ReporterFailure,
  ReporterSpecError,
  createReporter,
  finalExitCode,
  parseReporterSpecs,
  reporters,
  validateVerdict,
} from '../../reporters/index.js'
import { Multiplexer } from '../../reporters/multiplexer.js'
import { failedCheck, verdict } from './fixture.js'
import { Broken, Capture, fakeIO } from './streams.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-reporters-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('parseReporterSpecs', () => {
  it('reads names and name:path', () => {
    expect(parseReporterSpecs(['console', 'junit:out/junit.xml', 'json:C:/x.json'])).toEqual([
      { name: 'console', raw: 'console' },
      { name: 'junit', path: 'out/junit.xml', raw: 'junit:out/junit.xml' },
      { name: 'json', path: 'C:/x.json', raw: 'json:C:/x.json' },
    ])
  })

  it('rejects an unknown name with a suggestion, and an empty path', () => {
    expect(() => parseReporterSpecs(['junt:x.xml'])).toThrow(
      '--reporter junt:x.xml: unknown reporter "junt" (one of console, json, junit, markdown); did you mean "junit"?',
    )
    expect(() => parseReporterSpecs(['markdown:'])).toThrow(ReporterSpecError)
  })
})

describe('createReporter', () => {
  it('writes file reporters into new folders and keeps the live console on stdout', async () => {
    const { io, stdout } = fakeIO({ cwd: dir })
    const reporter = createReporter(
      ['console', 'junit:a/b/junit.xml', 'json:a/verdict.json', 'markdown:md/summary.md'],
      io,
    )
    await reporter.onRunEnd!(verdict)
    expect(reporter.failures).toEqual([])
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      await readFile(path.join(dir, 'a/b/junit.xml'), 'utf8'),
    )
    expect(xml.testsuites.tests).toBe('7')
    expect(validateVerdict(JSON.parse(await readFile(path.join(dir, 'a/verdict.json'), 'utf8'))).valid).toBe(
      true,
    )
    expect(await readFile(path.join(dir, 'md/summary.md'), 'utf8')).toMatch(/^## 💥 vigil: ERROR/)
    expect(stdout.text).toContain('ERROR · 5 checks')
  })

  it('sends json to stdout and moves the console to stderr, so stdout is pure JSON', async () => {
    const { io, stdout, stderr } = fakeIO()
    const reporter = createReporter(['console', 'json'], io)
    await reporter.onCheckEnd!(failedCheck)
    await reporter.onRunEnd!(verdict)
    expect(validateVerdict(JSON.parse(stdout.text)).valid).toBe(true)
    expect(stderr.text).toContain('✗ checkout-order › create order')
  })

  it('defaults to the console', async () => {
    const { io, stdout } = fakeIO()
    await createReporter([], io).onRunEnd!(verdict)
    expect(stdout.text).toContain('Where time went')
  })

  it('appends markdown to GITHUB_STEP_SUMMARY when it is set and no path is given', async () => {
    const file = path.join(dir, 'step-summary.md')
    await writeFile(file, '# earlier step\n')
    const { io, stdout } = fakeIO({ env: { GITHUB_STEP_SUMMARY: file } })
    await createReporter(['markdown'], io).onRunEnd!(verdict)
    const text = await readFile(file, 'utf8')
    expect(text.startsWith('# earlier step\n## 💥 vigil: ERROR')).toBe(true)
    expect(stdout.text).toBe('') // the summary went to the file only
  })

  it('refuses two documents on stdout, the same file twice, or a reporter given twice', () => {
    const { io } = fakeIO({ cwd: dir })
    expect(() => createReporter(['json', 'junit'], io)).toThrow(
      '--reporter junit: json and junit would both write to stdout; give all but one a path, e.g. junit:out/junit',
    )
    expect(() => createReporter(['json:x.out', 'junit:./x.out'], io)).toThrow(
      '--reporter junit:./x.out: json:x.out writes the same file',
    )
    expect(() => createReporter(['console', 'console'], io)).toThrow('--reporter console: given twice')
  })

  it('keeps the JUnit file when the Markdown reporter cannot write, and reports the failure', async () => {
    const blocked = path.join(dir, 'blocked')
    await writeFile(blocked, 'a file where a folder is needed')
    const { io, stderr } = fakeIO({ cwd: dir })
    const reporter = createReporter(['markdown:blocked/summary.md', 'junit:ok/junit.xml'], io)
    await reporter.onRunEnd!(verdict)
    expect(await readFile(path.join(dir, 'ok/junit.xml'), 'utf8')).toContain('<testsuites')
    expect(reporter.failures).toHaveLength(1)
    const failure = reporter.failures[0]!
    expect(failure).toBeInstanceOf(ReporterFailure)
    expect(failure.code).toBe('VIGIL_REPORTER_FAILED')
    expect(failure.message).toMatch(
      /^markdown:blocked\/summary\.md: reporter failed in onRunEnd: .*(ENOTDIR|EEXIST)/,
    )
    expect(stderr.text).toContain('vigil: markdown:blocked/summary.md: reporter failed in onRunEnd')
    expect(finalExitCode({ exitCode: 0 }, reporter.failures)).toBe(3)
    expect(finalExitCode({ exitCode: 1 }, reporter.failures)).toBe(1)
    expect(finalExitCode({ exitCode: 0 }, [])).toBe(0)
  })

  it('has a description and a default output for every reporter', () => {
    const { io } = fakeIO()
    for (const [name, factory] of Object.entries(reporters)) {
      expect(factory.description.length, name).toBeGreaterThan(10)
      expect(factory.defaultTarget(io), name).toBeDefined()
    }
  })
})

describe('Multiplexer', () => {
  it('isolates a throwing reporter: the others still get every event, failures are recorded once per hook', async () => {
    const seen: string[] = []
    const stderr = new Capture()
    const mux = new Multiplexer(
      [
        {
          label: 'broken',
          reporter: {
            onCheckEnd: () => {
              throw new Error('boom')
            },
            onRunEnd: async () => {
              throw new TypeError('render failed')
            },
          },
        },
        {
          label: 'good',
          reporter: {
            onCheckEnd: (r) => void seen.push(`end ${r.check}`),
            onRunEnd: (v) => void seen.push(`run ${v.status}`),
          },
        },
      ],
      stderr,
    )
    await mux.onRunStart({ runId: 'r', startedAt: verdict.startedAt, plans: [], sandboxes: [] })
    await mux.onCheckEnd(failedCheck)
    await mux.onCheckEnd({ ...failedCheck, check: 'second' })
    await mux.onRunEnd(verdict)
    expect(seen).toEqual(['end create order', 'end second', 'run error'])
    expect(mux.failures.map((f) => [f.reporter, f.hook, f.message])).toEqual([
      ['broken', 'onCheckEnd', 'broken: reporter failed in onCheckEnd: boom'],
      ['broken', 'onRunEnd', 'broken: reporter failed in onRunEnd: render failed'],
    ])
    expect(mux.failures[1]!.cause).toBeInstanceOf(TypeError)
    expect(stderr.text).toBe(
      'vigil: broken: reporter failed in onCheckEnd: boom\nvigil: broken: reporter failed in onRunEnd: render failed\n',
    )
  })

  it('records a stream that refuses writes (a closed pipe) as a failure', async () => {
    const { io } = fakeIO()
    io.stdout = new Broken()
    const reporter = createReporter(['json'], io)
    await reporter.onRunEnd!(verdict)
    expect(reporter.failures.map((f) => f.message)).toEqual([
      'json: reporter failed in onRunEnd: write EPIPE',
    ])
  })

  it('records a console whose terminal went away, without crashing the process', async () => {
    const { io } = fakeIO()
    io.stdout = new Broken()
    const reporter = createReporter(['console', 'junit:' + path.join(dir, 'after-epipe.xml')], io)
    await reporter.onCheckEnd!(failedCheck)
    await new Promise((resolve) => setImmediate(resolve))
    await reporter.onCheckEnd!({ ...failedCheck, check: 'second' })
    await reporter.onRunEnd!(verdict)
    expect(reporter.failures.map((f) => f.hook)).toEqual(['onCheckEnd', 'onRunEnd'])
    expect(reporter.failures[0]!.message).toBe('console: reporter failed in onCheckEnd: write EPIPE')
    expect(await readFile(path.join(dir, 'after-epipe.xml'), 'utf8')).toContain('<testsuites')
  })
})
