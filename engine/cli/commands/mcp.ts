/** `vigil mcp`: the MCP server over stdio, for coding agents (Claude Code and other MCP clients). */
import { installSignalHandlers } from '../../lifecycle.js'
import { serveStdio } from '../../mcp/server.js'

/** Serves until the client closes stdin, or SIGINT/SIGTERM. */
export async function mcp(flags: { config?: string }): Promise<void> {
  const controller = new AbortController()
  // SIGINT/SIGTERM: close the connection; serveStdio then stops the sandboxes of runs in flight.
  installSignalHandlers(() => {
    controller.abort()
  })
  await serveStdio({
    ...(flags.config === undefined ? {} : { configPath: flags.config }),
    signal: controller.signal,
  })
}
