import { CommanderError } from 'commander'
import { isKnownError } from '../errors.js'
import { processRedactor } from '../http/redact.js'
import { buildProgram } from './program.js'

/** Runs the CLI and returns the exit code. Errors are handled once, here. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv])
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit through here with code 0; usage errors were already printed.
      return error.exitCode === 0 ? 0 : 2
    }
    // Whatever reached here bypassed the run's reports: redact it with every secret this process learned.
    const redactor = processRedactor()
    if (isKnownError(error)) {
      process.stderr.write(`vigil: ${redactor.text(error.message)}\n`)
      return error.exitCode
    }
    const text = (error as Error)?.stack ?? String(error)
    process.stderr.write(`vigil: unexpected error\n${redactor.text(text)}\n`)
    return 3
  }
}
