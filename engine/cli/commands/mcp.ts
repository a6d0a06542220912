/** `vigil mcp`: the MCP server over stdio, for coding agents (Claude Code and other MCP clients). */
import type { Command } from 'commander'
import { installSignalHandlers } from '../../lifecycle.js'
import { serveStdio } from '../../mcp/server.js'
import type { RegisterCommand } from './index.js'

export const registerMcp: RegisterCommand = (program: Command) => {
  program
    .command('mcp')
    .description(
      'Serve vigil to coding agents over MCP (stdio): list_plans, lint_plans, select_plans, run_plans.',
    )
    .option('-c, --config <file>', 'vigil.config.yaml to use (default: ./vigil.config.yaml)')
    .addHelpText(
      'after',
      '\nRegister it with Claude Code:\n  claude mcp add vigil -- npx vigil mcp --config vigil.config.yaml',
    )
    .action(async (flags: { config?: string }) => {
      const controller = new AbortController()
      // SIGINT/SIGTERM: close the connection; serveStdio then stops the sandboxes of runs in flight.
      installSignalHandlers(() => {
        controller.abort()
      })
      await serveStdio({
        ...(flags.config === undefined ? {} : { configPath: flags.config }),
        signal: controller.signal,
      })
    })
}
