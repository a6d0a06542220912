/**
 * vigil's MCP server: the agent's interface. Tools: `list_plans`, `lint_plans`, `select_plans`,
 * `run_plans`, `reproduce_finding`, and `start_session` / `stop_session` for a warm session. Over stdio,
 * stdout carries only the protocol; diagnostics go to stderr.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { shutdown } from '../lifecycle.js'
import { mcpContext, type McpServerOptions } from './context.js'
import { registerPlanTools } from './tools/plans.js'
import { registerReproduceTool } from './tools/reproduce.js'
import { registerRunTool } from './tools/run.js'
import { registerSelectTool } from './tools/select.js'
import { registerSessionTools } from './tools/session.js'
import { McpSessions } from './session.js'

export type { McpServerOptions } from './context.js'

const INSTRUCTIONS = [
  'vigil validates code changes against plans (contract, end-to-end, load and adversarial checks).',
  'Before pushing a change: call select_plans with the diff (or base ref, or patch file) to learn which',
  'plans apply and why, then run_plans with that selection and the same diff, base or patch. A verdict',
  'of fail lists each failed check with the request, the expected and actual result, and a curl command',
  "that reproduces it, and an id: reproduce_finding replays that finding after the run (both sides' answers",
  "and the services' log lines). list_plans shows the catalog; lint_plans checks plan files after editing them.",
  'While iterating on a change, pass session: true to run_plans (or call start_session first): the sandboxes',
  'stay warm and each later call restarts only what changed; stop_session when done.',
].join(' ')

/** A server with vigil's tools registered, not yet connected. */
export function createMcpServer(options: McpServerOptions = {}): McpServer {
  const ctx = mcpContext(options)
  const server = new McpServer({ name: 'vigil', version: '0.1.0' }, { instructions: INSTRUCTIONS })
  registerPlanTools(server, ctx)
  registerSelectTool(server, ctx)
  const sessions = new McpSessions(ctx)
  registerRunTool(server, ctx, sessions)
  registerSessionTools(server, ctx, sessions)
  registerReproduceTool(server, ctx)
  return server
}

/**
 * A line that is not JSON, or JSON that is not a JSON-RPC message, gets the answer JSON-RPC 2.0 gives it
 * (-32700 Parse error, -32600 Invalid Request, with a null id: none could be read) rather than silence;
 * the SDK's transport only reports such lines to `onerror`.
 */
function answerUnreadableLines(transport: StdioServerTransport): void {
  const reported = transport.onerror
  transport.onerror = (error) => {
    reported?.(error)
    const parse = error instanceof SyntaxError
    if (!parse && error.name !== 'ZodError') return
    const answer = parse
      ? { code: -32700, message: `Parse error: ${error.message}` }
      : { code: -32600, message: 'Invalid Request: not a JSON-RPC 2.0 message' }
    void transport.send({ jsonrpc: '2.0', id: null, error: answer } as never).catch(() => undefined)
  }
}

/**
 * Serves over stdin/stdout until the client disconnects (stdin ends) or `signal` aborts; then stops
 * every sandbox still running. Resolves once closed.
 */
export async function serveStdio(options: McpServerOptions & { signal?: AbortSignal } = {}): Promise<void> {
  const server = createMcpServer(options)
  const transport = new StdioServerTransport()
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve()
  })
  await server.connect(transport)
  answerUnreadableLines(transport)
  const close = () => void server.close().catch(() => undefined)
  process.stdin.once('end', close)
  process.stdin.once('close', close)
  options.signal?.addEventListener('abort', close, { once: true })
  await closed
  // Runs still in flight when the client went away own sandboxes: stop them before exiting.
  await shutdown()
}
