/** A tiny request helper for the shop tests: status, headers, raw text and parsed JSON (when it is JSON). */
export interface Reply {
  status: number
  headers: Headers
  text: string
  json: any // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
}

export interface CallOptions {
  method?: string
  token?: string
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown
  /** Sent as is; set `content-type` yourself. */
  body?: string
  headers?: Record<string, string>
}

export async function call(url: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  let body = options.body
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json'
    body = JSON.stringify(options.json)
  }
  const response = await fetch(url, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}
