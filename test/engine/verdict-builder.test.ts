import { describe, expect, it } from 'vitest'
import { Redactor } from '../../engine/http/redact.js'
import { redactingReporter } from '../../engine/run/run-support.js'
import { buildVerdict, planState, summarize, verdictStatus } from '../../engine/verdict-builder.js'
import { SECRETS, findForms } from '../support/secrets.js'
import type { CheckResult, PlanResult } from '../../engine/verdict.js'

const loc = { file: 'plans/p.md', line: 1 }
const check = (state: CheckResult['state']): CheckResult => {
  const base = { plan: 'p', check: state, kind: 'e2e', location: loc }
  if (state === 'skipped') return { ...base, state, note: 'n' }
  if (state === 'errored')
    return { ...base, state, durationMs: 1, error: { name: 'Error', message: 'x' }, findings: [] }
  return { ...base, state, durationMs: 1, findings: [] }
}
const planResult = (name: string, blocking: boolean, states: CheckResult['state'][]): PlanResult => {
  const checks = states.map(check)
  return {
    name,
    title: name,
    file: `plans/${name}.md`,
    blocking,
    state: planState(blocking, checks),
    durationMs: 1,
    checks,
  }
}

describe('verdict', () => {
  it.each([
    [true, ['passed', 'skipped'], 'passed'],
    [true, ['skipped'], 'skipped'],
    [true, [], 'skipped'],
    [true, ['passed', 'failed'], 'failed'],
    [true, ['failed', 'errored'], 'errored'],
    [false, ['failed'], 'warned'],
    [false, ['errored'], 'warned'],
    [false, ['passed'], 'passed'],
  ] as const)('blocking=%s %j → %s', (blocking, states, expected) => {
    expect(planState(blocking, states.map(check))).toBe(expected)
  })

  it.each([
    [['failed!'], 'warned'],
    [['errored!'], 'warned'],
    [['failed!', 'passed'], 'warned'],
    [['failed!', 'failed'], 'failed'],
    [['errored!', 'failed'], 'failed'],
    [['failed!', 'errored'], 'errored'],
    [['passed!'], 'passed'],
  ] as const)('a blocking plan with non-blocking checks (!) %j → %s', (states, expected) => {
    const checks = states.map((s) => {
      const c = check(s.replace('!', '') as CheckResult['state'])
      return s.endsWith('!') ? { ...c, blocking: false as const } : c
    })
    expect(planState(true, checks)).toBe(expected)
  })

  it('counts a failed non-blocking check as warned, and the run passes', () => {
    const checks: CheckResult[] = [check('passed'), { ...check('failed'), blocking: false }]
    const plan: PlanResult = { ...planResult('a', true, []), checks, state: planState(true, checks) }
    expect(summarize([plan]).checks).toMatchObject({ total: 2, passed: 1, failed: 0, warned: 1 })
    expect(verdictStatus({ plans: [plan] })).toEqual({ status: 'pass', exitCode: 0 })
  })

  it.each([
    [{ plans: [planResult('a', true, ['passed'])] }, 'pass', 0],
    [{ plans: [planResult('a', false, ['failed'])] }, 'pass', 0],
    [{ plans: [planResult('a', true, ['failed'])] }, 'fail', 1],
    [{ plans: [planResult('a', true, ['errored'])] }, 'error', 3],
    [{ plans: [planResult('a', true, ['passed'])], cancelled: true }, 'error', 3],
    [
      { plans: [planResult('a', true, ['failed'])], errors: [{ code: 'VIGIL_PLAN', message: 'bad' }] },
      'error',
      2,
    ],
    [
      {
        plans: [],
        errors: [
          { code: 'VIGIL_PLAN', message: 'p' },
          { code: 'VIGIL_INFRASTRUCTURE', message: 's' },
        ],
      },
      'error',
      3,
    ],
  ] as const)('%# status and exit code', (input, status, exitCode) => {
    expect(verdictStatus(input as never)).toEqual({ status, exitCode })
  })

  it('counts plans and checks, warnings apart from failures', () => {
    const plans = [
      planResult('a', true, ['passed', 'failed', 'skipped']),
      planResult('b', false, ['failed', 'errored', 'passed']),
    ]
    expect(summarize(plans)).toEqual({
      plans: { total: 2, passed: 0, failed: 1, errored: 0, skipped: 0, warned: 1 },
      checks: { total: 6, passed: 2, failed: 1, errored: 0, skipped: 1, warned: 2 },
    })
  })

  it('builds a complete verdict', () => {
    const verdict = buildVerdict({
      startedAt: new Date('2024-01-02T03:04:05.000Z'),
      durationMs: 12.6,
      identity: { runId: 'r1', seed: 1 },
      plans: [planResult('a', true, ['passed'])],
      timings: [{ phase: 'plan:a', durationMs: 3.4 }],
    })
    expect(verdict).toMatchObject({
      schemaVersion: 3,
      status: 'pass',
      exitCode: 0,
      startedAt: '2024-01-02T03:04:05.000Z',
      durationMs: 13,
      errors: [],
      timings: [{ phase: 'plan:a', durationMs: 3 }],
    })
    expect(verdict).not.toHaveProperty('cancelled')
  })
})

describe('the verdict, redacted as a whole', () => {
  const key = 'sk-ant-api03-Zm9v+YmFy/cXV4=Q_k3y'
  const redactor = new Redactor({ secrets: [key, SECRETS.special] })
  const failed: CheckResult = {
    plan: 'a',
    check: 'echo',
    kind: 'e2e',
    location: loc,
    state: 'failed',
    durationMs: 1,
    findings: [
      {
        message: `got ${Buffer.from(SECRETS.special).toString('base64')}`,
        severity: 'error',
        evidence: {
          transport: 'http',
          summary: [
            { label: 'request', value: `GET http://127.0.0.1:1/?t=${encodeURIComponent(SECRETS.special)}` },
          ],
          request: {
            method: 'GET',
            headers: {},
            url: `http://127.0.0.1:1/?t=${encodeURIComponent(SECRETS.special)}`,
          },
          reproduce: `curl 'http://127.0.0.1:1/?t=${new URLSearchParams({ t: SECRETS.special }).toString().slice(2)}'`,
        },
      },
    ],
  }
  const input = {
    startedAt: new Date('2024-01-02T03:04:05.000Z'),
    durationMs: 1,
    identity: { runId: 'r1', seed: 1 },
    plans: [{ ...planResult('a', true, []), state: 'failed' as const, checks: [failed] }],
    errors: [
      { code: 'VIGIL_SANDBOX_START', message: 'crashed', logTail: [`env KEY=${JSON.stringify(key)}`] },
    ],
    selection: {
      selector: 'hybrid',
      degraded: true,
      degradedReason: `Messages API answered 401: invalid x-api-key ${key}`,
      plans: [],
    },
  }

  it('replaces every form of every secret in the selection, the errors and the findings', () => {
    const verdict = buildVerdict({ ...input, redactor })
    expect(findForms(JSON.stringify(verdict), { ...SECRETS, key })).toEqual([])
    expect(verdict.selection?.degradedReason).toBe('Messages API answered 401: invalid x-api-key [REDACTED]')
    expect(verdict.errors[0]!.logTail).toEqual(['env KEY="[REDACTED]"'])
    expect(verdict).toMatchObject({ status: 'error', exitCode: 3, summary: { checks: { failed: 1 } } })
  })

  it('every event a reporter hears is redacted too, with the secrets known when it is sent', () => {
    const heard: unknown[] = []
    const late = new Redactor()
    const reporter = redactingReporter(
      {
        onRunStart: (info) => void heard.push(info),
        onCheckProgress: (event) => void heard.push(event),
        onCheckEnd: (result) => void heard.push(result),
      },
      () => late,
    )
    late.add([key, SECRETS.special])
    reporter.onRunStart({
      runId: 'r',
      startedAt: 'now',
      selection: input.selection,
      plans: [],
      sandboxes: [],
    })
    reporter.onCheckProgress({
      plan: 'a',
      check: 'echo',
      kind: 'e2e',
      note: `calling ${encodeURIComponent(key)}`,
    })
    reporter.onCheckEnd(failed)
    expect(heard).toHaveLength(3)
    expect(findForms(JSON.stringify(heard), { ...SECRETS, key })).toEqual([])
  })
})
