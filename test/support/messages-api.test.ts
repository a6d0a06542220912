import Anthropic from '@anthropic-ai/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import {
  apiKeyOf,
  htmlReply,
  messageReply,
  rawReply,
  startMessagesApi,
  statusReply,
  textReply,
  times,
  toolReply,
} from './messages-api.js'
import type { MessagesApiServer } from './messages-api.js'

let api: MessagesApiServer | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

const params = {
  model: 'claude-test',
  max_tokens: 64,
  messages: [{ role: 'user' as const, content: 'hi' }],
  tools: [{ name: 'pick', input_schema: { type: 'object' as const, properties: {} } }],
  tool_choice: { type: 'tool' as const, name: 'pick' },
}

describe('local Messages API server', () => {
  it('answers a forced tool call through the real SDK and records the request', async () => {
    api = await startMessagesApi({
      replies: [toolReply({ a: 1 }, { usage: { input_tokens: 7, output_tokens: 3 } })],
    })
    const client = new Anthropic({ baseURL: api.url, apiKey: 'test-key', maxRetries: 0 })
    const reply = await client.messages.create(params)
    expect(reply.content).toEqual([{ type: 'tool_use', id: 'toolu_local_1', name: 'pick', input: { a: 1 } }])
    expect(reply.usage.input_tokens).toBe(7)
    expect(api.requests).toHaveLength(1)
    expect(api.requests[0]?.path).toBe('/v1/messages')
    expect(apiKeyOf(api.requests[0]!)).toBe('test-key')
    expect(api.requests[0]?.body?.model).toBe('claude-test')
  })

  it('scripts 429 then success, which the SDK retries quickly', async () => {
    api = await startMessagesApi({ replies: [statusReply(429), textReply('ok')] })
    const client = new Anthropic({ baseURL: api.url, apiKey: 'k', maxRetries: 2 })
    const reply = await client.messages.create(params)
    expect(reply.content[0]).toMatchObject({ type: 'text', text: 'ok' })
    expect(api.requests).toHaveLength(2)
    // The SDK's own backoff (under a second): the scripted 429 asks for no wait. A Retry-After would
    // have the SDK wait for it; the bound leaves a loaded machine ten times the backoff and more.
    expect(api.requests[1]!.receivedAt - api.requests[0]!.receivedAt).toBeLessThan(10_000)
  })

  it('fails with the scripted status after the SDK gives up', async () => {
    api = await startMessagesApi({ replies: times(3, statusReply(500)) })
    const client = new Anthropic({ baseURL: api.url, apiKey: 'k', maxRetries: 2 })
    await expect(client.messages.create(params)).rejects.toMatchObject({ status: 500 })
    expect(api.requests).toHaveLength(3)
    expect(api.pending()).toBe(0)
  })

  it('sends invalid JSON as scripted and falls back to a non-retried 500 when the queue is empty', async () => {
    api = await startMessagesApi({ replies: [rawReply('{not json')] })
    const client = new Anthropic({ baseURL: api.url, apiKey: 'k', maxRetries: 2 })
    await expect(client.messages.create(params)).rejects.toThrow()
    await expect(client.messages.create(params)).rejects.toMatchObject({ status: 500 })
    expect(api.requests).toHaveLength(2)
  })

  it('delays a reply past the SDK timeout', async () => {
    // A minute: only the SDK's timeout can end the wait, however slow the machine.
    api = await startMessagesApi({ replies: [toolReply({}, { delayMs: 60_000 })] })
    const client = new Anthropic({ baseURL: api.url, apiKey: 'k', maxRetries: 0, timeout: 200 })
    await expect(client.messages.create(params)).rejects.toThrow(/timed out/i)
  })

  it('sends the hostile shapes as scripted: HTML, overridden messages, Retry-After alone, replies per request', async () => {
    api = await startMessagesApi({
      replies: [
        htmlReply('<html>portal</html>'),
        messageReply({ content: null }),
        statusReply(429, { retryAfter: 45 }),
        (request) => textReply(`you asked for ${request?.model}`),
      ],
    })
    const post = () =>
      fetch(`${api!.url}/v1/messages`, { method: 'POST', body: JSON.stringify({ model: 'claude-x' }) })
    const html = await post()
    expect([html.status, html.headers.get('content-type'), await html.text()]).toEqual([
      200,
      'text/html; charset=utf-8',
      '<html>portal</html>',
    ])
    const nulled = (await (await post()).json()) as Record<string, unknown>
    expect(nulled).toMatchObject({ type: 'message', role: 'assistant', content: null })
    const limited = await post()
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('45')
    expect(limited.headers.get('retry-after-ms')).toBeNull()
    const echoed = (await (await post()).json()) as { content: Array<{ text: string }> }
    expect(echoed.content[0]?.text).toBe('you asked for claude-x')
    const [first, , , last] = api.requests
    expect(last!.receivedAt).toBeGreaterThanOrEqual(first!.receivedAt)
  })
})
