/**
 * `junit`: JUnit XML for CI test views. One testsuite per plan, one testcase per check; failed checks
 * carry a <failure>, errored ones an <error>, skipped ones <skipped>. Failed checks of non-blocking
 * plans, and non-blocking checks, are warnings: they pass, with the findings in <system-out>. Run errors get their own suite.
 */
import type { CheckResult, PlanResult, RunError, Verdict } from '../engine/verdict.js'
import { errorLines, findingLines, logTailLines } from './finding-text.js'
import {
  deferredNote,
  checkDuration,
  findingsOf,
  formatLocation,
  formatSeconds,
  sideServiceLines,
  sideSourceLine,
  sidesOf,
  sortedPlans,
} from './format.js'
import { plainStyle } from './finding-text.js'
import { writeDocument } from './output.js'
import type { ReporterFactory } from './types.js'

/** The suite that holds run errors; not a plan name (those are kebab-case), so it cannot collide. */
export const RUN_ERRORS_SUITE = 'vigil: run errors'

// XML 1.0 forbids most C0 controls, U+FFFE/U+FFFF and unpaired surrogates even as character references.
const INVALID_XML =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** Invalid characters become a visible `\uXXXX` rather than vanishing or breaking the document. */
function visible(text: string): string {
  return text.replace(INVALID_XML, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Escapes element text. */
export function escapeXmlText(text: string): string {
  return visible(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Escapes an attribute value, keeping newlines and tabs (parsers would normalise them to spaces). */
export function escapeXmlAttr(text: string): string {
  return escapeXmlText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;')
}

function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXmlAttr(String(value))}"`)
    .join('')
}

function element(
  indent: string,
  name: string,
  attributes: Record<string, string | number | undefined>,
  body?: string,
): string {
  if (body === undefined || body === '') return `${indent}<${name}${attrs(attributes)}/>`
  return `${indent}<${name}${attrs(attributes)}>${escapeXmlText(body)}</${name}>`
}

interface Tally {
  tests: number
  failures: number
  errors: number
  skipped: number
  timeMs: number
}

/** Options of the JUnit rendering. */
export interface JunitOptions {
  /** Where the JSON verdict is written, for the `vigil reproduce` lines. */
  verdictPath?: string
}

function testcase(plan: PlanResult, check: CheckResult, tally: Tally, options: JunitOptions): string {
  const duration = checkDuration(check) ?? 0
  tally.tests += 1
  tally.timeMs += duration
  const open = `    <testcase${attrs({
    classname: plan.name,
    name: check.check,
    file: check.location.file,
    line: check.location.line,
    time: formatSeconds(duration),
  })}>`
  const inner: string[] = []
  const findings = findingsOf(check)
  const limits = options.verdictPath !== undefined ? { verdictPath: options.verdictPath } : {}
  const findingText = findings.flatMap((f, i) => findingLines(f, i, '', plainStyle, limits)).join('\n')
  const where = `${check.kind} check at ${formatLocation(check.location)}`
  if (check.state === 'skipped') {
    tally.skipped += 1
    inner.push(element('      ', 'skipped', { message: check.note }))
  } else if (check.state === 'errored') {
    tally.errors += 1
    const body = [
      ...errorLines(check.error, ''),
      ...(findingText ? ['', 'findings:', findingText] : []),
    ].join('\n')
    inner.push(
      element(
        '      ',
        'error',
        { message: check.error.message, type: check.error.code ?? check.error.name },
        `${where}\n${body}\n`,
      ),
    )
  } else if (check.state === 'failed' && plan.blocking && check.blocking !== false) {
    tally.failures += 1
    const errors = findings.filter((f) => f.severity === 'error')
    const first = errors[0] ?? findings[0]
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''
    const message = first ? `${first.message}${more}` : 'the check failed'
    inner.push(
      element(
        '      ',
        'failure',
        { message, type: first?.messageId ?? check.kind },
        `${where}\n${findingText}\n`,
      ),
    )
  } else if (check.state === 'failed') {
    const header = plan.blocking
      ? `warning: check ${check.check} is not blocking, so its failure does not fail the run.`
      : `warning: plan ${plan.name} is not blocking, so this failed check does not fail the run.`
    inner.push(element('      ', 'system-out', {}, `${header}\n${where}\n${findingText}\n`))
  }
  if (check.state === 'passed' && findings.length > 0) {
    inner.push(element('      ', 'system-out', {}, `${findingText}\n`))
  }
  if (inner.length === 0) return `${open.slice(0, -1)}/>`
  return [open, ...inner, '    </testcase>'].join('\n')
}

function suite(
  name: string,
  attributes: Record<string, string | undefined>,
  properties: Array<[string, string]>,
  cases: string[],
  tally: Tally,
): string {
  const head = `  <testsuite${attrs({
    name,
    tests: tally.tests,
    failures: tally.failures,
    errors: tally.errors,
    skipped: tally.skipped,
    time: formatSeconds(tally.timeMs),
    ...attributes,
  })}>`
  const props = properties.length
    ? [
        '    <properties>',
        ...properties.map(([n, v]) => element('      ', 'property', { name: n, value: v })),
        '    </properties>',
      ]
    : []
  return [head, ...props, ...cases, '  </testsuite>'].join('\n')
}

/**
 * Which builds were compared, as suite properties (JUnit has none on <testsuites>): per side, where it ran
 * from (`vigil.candidate.source`) and its services with their commands and versions (`vigil.candidate.services`).
 */
function buildProperties(verdict: Verdict): Array<[string, string]> {
  const deferred = deferredNote(verdict)
  return [
    ...sidesOf(verdict.identity).flatMap(([name, side]): Array<[string, string]> => [
      [`vigil.${name}.source`, sideSourceLine(side)],
      [`vigil.${name}.services`, sideServiceLines(side).join('; ')],
    ]),
    ...(deferred ? [['vigil.partial', deferred] as [string, string]] : []),
  ]
}

function planSuite(
  plan: PlanResult,
  timestamp: string,
  totals: Tally,
  builds: Array<[string, string]>,
  options: JunitOptions,
): string {
  const tally: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: 0 }
  const cases = plan.checks.map((check) => testcase(plan, check, tally, options))
  // A suite's time is the plan's wall time (checks may overlap); the cases keep their own.
  tally.timeMs = plan.durationMs
  addTally(totals, tally)
  const properties: Array<[string, string]> = [
    ['title', plan.title],
    ['blocking', String(plan.blocking)],
    ['state', plan.state],
    ...builds,
  ]
  return suite(plan.name, { file: plan.file, timestamp }, properties, cases, tally)
}

function runErrorSuite(
  errors: readonly RunError[],
  timestamp: string,
  totals: Tally,
  builds: Array<[string, string]>,
): string {
  const tally: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: 0 }
  const cases = errors.map((error) => {
    tally.tests += 1
    tally.errors += 1
    const where = error.location ? formatLocation(error.location) : undefined
    const body = [
      where ? `${where} ${error.message}` : error.message,
      ...logTailLines(error.logTail, ''),
    ].join('\n')
    const open = `    <testcase${attrs({ classname: RUN_ERRORS_SUITE, name: where ? `${error.code} ${where}` : error.code, file: error.location?.file, line: error.location?.line, time: '0.000' })}>`
    return [
      open,
      element('      ', 'error', { message: error.message, type: error.code }, `${body}\n`),
      '    </testcase>',
    ].join('\n')
  })
  addTally(totals, tally)
  return suite(RUN_ERRORS_SUITE, { timestamp }, builds, cases, tally)
}

function addTally(into: Tally, from: Tally): void {
  into.tests += from.tests
  into.failures += from.failures
  into.errors += from.errors
  into.skipped += from.skipped
}

/** The verdict as a JUnit XML document (UTF-8, trailing newline). Suites are plans sorted by name. */
export function renderJunit(verdict: Verdict, options: JunitOptions = {}): string {
  const totals: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: verdict.durationMs }
  const timestamp = verdict.startedAt
  const builds = buildProperties(verdict)
  const suites = sortedPlans(verdict).map((plan) => planSuite(plan, timestamp, totals, builds, options))
  if (verdict.errors.length > 0) suites.push(runErrorSuite(verdict.errors, timestamp, totals, builds))
  const root = `<testsuites${attrs({
    name: 'vigil',
    tests: totals.tests,
    failures: totals.failures,
    errors: totals.errors,
    skipped: totals.skipped,
    time: formatSeconds(totals.timeMs),
    timestamp,
  })}>`
  return ['<?xml version="1.0" encoding="UTF-8"?>', root, ...suites, '</testsuites>', ''].join('\n')
}

export const junit: ReporterFactory = {
  description: 'JUnit XML, one testsuite per plan and one testcase per check; junit:FILE (else stdout)',
  defaultTarget: () => 'stdout',
  create: ({ target, io }) => ({
    onRunEnd: (verdict) =>
      writeDocument(
        target,
        renderJunit(verdict, io.verdictPath !== undefined ? { verdictPath: io.verdictPath } : {}),
      ),
  }),
}
