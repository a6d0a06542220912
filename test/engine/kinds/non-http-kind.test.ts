/**
 * The seam for a kind that does not speak HTTP: `tcp-echo` (test/support/tcp-echo/: its kind, its client)
 * plugs in the way a user adds a kind — its folder, and a line in each registry it needs — and its
 * findings pass through plan loading, the real process sandbox (which starts TCP echo services), the
 * executor, the verdict and its schema, and all four reporters, with its own summary and reproduce line.
 * Its cases run through KindTester (test/support/kind-tester.ts) like every kind's.
 */
import { fileURLToPath } from 'node:url'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  clients,
  OffSandboxTrafficError,
  openClients,
  SandboxAddresses,
} from '../../../engine/clients/index.js'
import { Redactor } from '../../../engine/http/redact.js'
import { startSandboxes, type SandboxSession } from '../../../engine/sandboxes/index.js'
import type { Verdict } from '../../../engine/verdict.js'
import { renderSummary } from '../../../reporters/console-render.js'
import { renderJson } from '../../../reporters/json.js'
import { renderJunit } from '../../../reporters/junit.js'
import { renderMarkdown } from '../../../reporters/markdown.js'
import { validateVerdict } from '../../../reporters/schema.js'
import { KindTester } from '../../support/kind-tester.js'
import { tcp, type TcpClient } from '../../support/tcp-echo/client.js'
import tcpEcho from '../../support/tcp-echo/kind.js'
import { removeDir, tempDir, writeConfig } from '../sandboxes/helpers.js'

// What a user writes to add the kind: a line in engine/kinds/index.ts, and — since it speaks a transport
// vigil has no client for — a line in engine/clients/index.ts. Here the tester is given both.
const clientRegistry = { ...clients, tcp }

const SERVER = fileURLToPath(new URL('../../support/tcp-echo/server.js', import.meta.url))

let dir: string
let session: SandboxSession | undefined
let verdict: Verdict
let port: string

// The candidate's `echo` service is faulty: it answers upper-cased; `plain` echoes as it should.
beforeAll(async () => {
  dir = tempDir('vigil-tcp-echo-')
  const command = JSON.stringify([process.execPath, SERVER])
  const loaded = writeConfig(
    dir,
    `sandbox:
  provider: process
  default: echo
  services:
    echo:
      command: ${command}
      env: { MODE: upper }
      ready: { tcp: true, timeout: 10s }
    plain:
      command: ${command}
      env: { MODE: echo }
      ready: { tcp: true, timeout: 10s }
`,
  )
  session = await startSandboxes({
    loaded,
    baseline: false,
    signal: new AbortController().signal,
    log: () => undefined,
    cwd: dir,
    redactor: new Redactor(),
  })
  port = new URL(session.candidate.url('echo')).port
}, 30_000)

afterAll(async () => {
  await session?.stop()
  if (dir) removeDir(dir)
})

const tester = new KindTester({
  kind: tcpEcho,
  name: 'tcp-echo',
  clients: clientRegistry,
  candidate: () => session!.candidate,
})

tester.run('a check kind that does not speak HTTP, as a table', {
  valid: [
    {
      name: 'a service that echoes',
      block: 'service: plain\nsend: ping\n',
      findings: [{ messageId: 'echoed', severity: 'info', data: { service: 'plain', sent: '"ping"' } }],
    },
    {
      name: 'a reply the block expects',
      block: 'service: echo\nsend: ping\nexpect: PING\n',
      findings: [{ messageId: 'echoed', severity: 'info' }],
    },
  ],
  invalid: [
    {
      name: 'a reply that differs',
      block: 'send: hello\n',
      findings: [
        {
          messageId: 'mismatch',
          expected: 'hello',
          actual: 'HELLO',
          message: 'Sent "hello" to echo, got "HELLO" back; expected "hello".',
        },
      ],
    },
  ],
  rejected: [
    {
      name: 'nothing to send',
      block: 'service: echo\n',
      errors: ['0:1 tcp-echo: missing required property "send"'],
    },
    { name: 'an empty message', block: "send: ''\n", errors: ['1:7 tcp-echo: send is empty'] },
  ],
  errored: [
    {
      name: 'a service the sandbox does not have',
      block: 'service: nope\nsend: ping\n',
      error: /unknown service "nope"/,
    },
  ],
})

describe('a check kind that does not speak HTTP', () => {
  beforeAll(async () => {
    // The client keeps to the sandbox: another port on the same host is refused before connecting.
    const opened = openClients(clientRegistry, ['tcp'], {
      redactor: new Redactor(),
      addresses: SandboxAddresses.of([session!.candidate]),
    })
    try {
      const client = opened.byName.tcp as TcpClient
      await expect(
        client.exchange('tcp://127.0.0.1:9', 'x', { timeoutMs: 1000, signal: new AbortController().signal }),
      ).rejects.toThrow(OffSandboxTrafficError)
    } finally {
      await opened.close()
    }
    const run = await tester.invalid({
      name: 'Echoes ping',
      block: 'service: echo\nsend: ping\n',
      findings: [{ messageId: 'mismatch' }],
    })
    verdict = run.verdict
  })

  const SENT = () => `"ping" to 127.0.0.1:${port} (candidate)`
  const REPRODUCE = () => `printf '%s' ping | nc 127.0.0.1 ${port}`

  it('fails the check with its own evidence, valid against the published verdict schema', () => {
    expect(verdict.status).toBe('fail')
    const check = verdict.plans[0]!.checks[0]!
    expect(check).toMatchObject({ kind: 'tcp-echo', check: 'Echoes ping', state: 'failed' })
    const finding = check.state === 'failed' ? check.findings[0]! : undefined
    expect(finding).toMatchObject({
      messageId: 'mismatch',
      message: 'Sent "ping" to echo, got "PING" back; expected "ping".',
      expected: 'ping',
      actual: 'PING',
      evidence: {
        transport: 'tcp',
        sandbox: 'candidate',
        summary: [
          { label: 'sent', value: SENT() },
          { label: 'received', value: expect.stringMatching(/^4 bytes in [\d.]+m?s$/) },
        ],
        excerpt: { label: 'reply', text: 'PING' },
        reproduce: REPRODUCE(),
        details: { host: '127.0.0.1', port: Number(port), sent: 'ping', received: 'PING' },
      },
    })
    expect(validateVerdict(verdict)).toEqual({ valid: true, errors: [] })
  })

  it('appears in the JSON report as it is in the verdict', () => {
    const json = JSON.parse(renderJson(verdict)) as Verdict
    expect(validateVerdict(json).valid).toBe(true)
    const check = json.plans[0]!.checks[0]!
    expect(check.state === 'failed' && check.findings[0]!.evidence).toEqual(
      verdict.plans[0]!.checks[0]!.state === 'failed' && verdict.plans[0]!.checks[0]!.findings[0]!.evidence,
    )
  })

  it('appears in the console summary: its lines, its reply and its reproduce line', () => {
    const text = renderSummary(verdict, { color: false })
    const lines = text.split('\n').map((l) => l.trim())
    expect(lines).toContain(`sent:      ${SENT()}`)
    expect(lines.some((l) => /^received: {2}4 bytes in [\d.]+m?s$/.test(l))).toBe(true)
    expect(lines.slice(lines.indexOf('reply:'), lines.indexOf('reply:') + 2)).toEqual(['reply:', 'PING'])
    expect(lines).toContain(`reproduce: ${REPRODUCE()}`)
  })

  it('appears in the JUnit report, parsed as XML, inside the failure of its testcase', () => {
    const xml = renderJunit(verdict)
    expect(XMLValidator.validate(xml)).toBe(true)
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', trimValues: false }).parse(
      xml,
    ) as {
      testsuites: {
        testsuite: { name: string; testcase: { name: string; failure: { message: string; '#text': string } } }
      }
    }
    const testcase = doc.testsuites.testsuite.testcase
    expect(testcase.name).toBe('Echoes ping')
    expect(testcase.failure.message).toBe('Sent "ping" to echo, got "PING" back; expected "ping".')
    const body = testcase.failure['#text']
    expect(body).toContain(`sent:      ${SENT()}`)
    expect(body).toMatch(/received: {2}4 bytes in [\d.]+m?s/)
    expect(body).toMatch(/reply:\n\s+PING\n/)
    expect(body).toContain(`reproduce: ${REPRODUCE()}`)
  })

  it('appears in the Markdown summary: its lines as code, its reply and reproduce line fenced', () => {
    const md = renderMarkdown(verdict)
    expect(md).toContain(`- sent: \`${SENT()}\``)
    expect(md).toMatch(/- received: `4 bytes in [\d.]+m?s`/)
    expect(md).toContain('Reply:\n\n   ```text\n   PING\n   ```')
    const check = verdict.plans[0]!.checks[0]!
    const id = 'findings' in check ? check.findings.find((f) => f.severity !== 'info')!.id : ''
    expect(md).toContain(
      `Reproduce:\n\n   \`\`\`sh\n   ${REPRODUCE()}\n   # after the run:\n   vigil reproduce <verdict.json> ${id}\n   \`\`\``,
    )
  })
})
