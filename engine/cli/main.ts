import { Command, CommanderError } from 'commander'
import { isKnownError } from '../errors.js'
import { commands, type CommandName } from './commands/index.js'

/**
 * The program with the commands it needs: only the one named on the command line when it is a known
 * command, every command otherwise (top-level help, a typo that wants a suggestion).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const named = argv[2]
  const wanted =
    named && Object.hasOwn(commands, named)
      ? [named as CommandName]
      : (Object.keys(commands) as CommandName[])
  const program = new Command('vigil')
    .description(
      'Plan-driven validation of code changes: select the plans a diff needs, run them, get one verdict.',
    )
    .version('0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride()
  for (const register of await Promise.all(wanted.map((name) => commands[name]()))) register(program)
  return program
}

/** Runs the CLI and returns the exit code. Errors are handled once, here. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const program = await buildProgram(argv)
    await program.parseAsync([...argv])
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit through here with code 0; usage errors were already printed.
      return error.exitCode === 0 ? 0 : 2
    }
    if (isKnownError(error)) {
      process.stderr.write(`vigil: ${error.message}\n`)
      return error.exitCode
    }
    process.stderr.write(`vigil: unexpected error\n${(error as Error)?.stack ?? String(error)}\n`)
    return 3
  }
}
