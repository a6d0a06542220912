/**
 * A shell command that reproduces a case. Short printable bodies go into curl as they are; long or
 * binary ones (a 1 MiB string, 50,000 nested brackets, invalid UTF-8) are rebuilt by a small printf
 * and `head -c … | tr` pipeline into curl's stdin, so the line stays short and still sends the same bytes.
 */
import { renderCurl, shellQuote } from '../../http/curl.js'
import type { Redactor } from '../../http/redact.js'
import type { RecordedRequest } from '../../verdict.js'

const INLINE_LIMIT = 4096
const RUN_MIN = 64

function printable(byte: number): boolean {
  return byte >= 0x20 && byte < 0x7f
}

/** Shell commands writing `bytes` to stdout. */
function writer(bytes: Buffer): string[] {
  const parts: string[] = []
  let i = 0
  let text = ''
  const flush = () => {
    if (text) parts.push(`printf '%s' ${shellQuote(text)}`)
    text = ''
  }
  while (i < bytes.length) {
    const byte = bytes[i]!
    let run = 1
    while (i + run < bytes.length && bytes[i + run] === byte) run++
    if (run >= RUN_MIN) {
      flush()
      parts.push(`head -c ${run} /dev/zero | tr '\\000' '\\${byte.toString(8).padStart(3, '0')}'`)
      i += run
      continue
    }
    if (printable(byte)) {
      text += String.fromCharCode(byte)
      i++
      continue
    }
    flush()
    let escapes = ''
    while (i < bytes.length && !printable(bytes[i]!))
      escapes += `\\${bytes[i++]!.toString(8).padStart(3, '0')}`
    parts.push(`printf '${escapes}'`)
  }
  flush()
  return parts
}

/** The body of a recorded request, clipped for a finding's evidence. */
export function clipRecorded(request: RecordedRequest, max = 2048): RecordedRequest {
  if (request.body === undefined || request.body.length <= max) return request
  return { ...request, body: `${request.body.slice(0, max)}… (${request.body.length} characters)` }
}

/** A command reproducing the request: plain curl, or a pipeline into `curl --data-binary @-`. */
export function reproduceCommand(
  recorded: RecordedRequest,
  body: string | Buffer | undefined,
  redactor: Redactor,
): string {
  if (body === undefined) return renderCurl(recorded)
  // latin1 keeps one character per byte, so redaction cannot corrupt non-UTF-8 bodies.
  const bytes = Buffer.from(redactor.text(Buffer.from(body).toString('latin1')), 'latin1')
  if (bytes.length <= INLINE_LIMIT && bytes.every((b) => printable(b) || b === 0x0a || b === 0x09)) {
    return renderCurl({ ...recorded, body: bytes.toString('utf8') })
  }
  const { body: _body, ...headersOnly } = recorded
  const curl = renderCurl(headersOnly)
  const method = recorded.method === 'GET' ? `${curl.replace(/^curl -sS -i/, 'curl -sS -i -X GET')}` : curl
  const parts = writer(bytes)
  const source = parts.length === 1 ? parts[0]! : `{ ${parts.join('; ')}; }`
  return `${source} | ${method} --data-binary @-`
}
