/**
 * Splits a command line into argv the way a POSIX shell would for plain words and quotes, without
 * running a shell: no variables, globs, pipes or redirections. Services are spawned shell-free so that
 * the process we start is the service itself (signals reach it, its exit code is its own).
 */
import { VigilError } from '../errors.js'

/** Thrown with a plain sentence; the caller prefixes the config location. */
export class CommandSyntaxError extends VigilError {
  constructor(message: string) {
    super('VIGIL_COMMAND_SYNTAX', message, { exitCode: 2 })
  }
}

const SHELL_OPERATORS = new Set(['&&', '||', '|', ';', '&', '>', '>>', '<', '2>', '2>&1'])

/**
 * `node "my server.js" --name 'a b' x\ y` → `['node', 'my server.js', '--name', 'a b', 'x y']`.
 * Single quotes keep everything literally; inside double quotes a backslash escapes `"`, `\`, `$` and `` ` ``.
 */
export function parseCommand(command: string): string[] {
  const args: string[] = []
  let current = ''
  let inWord = false
  let quote: "'" | '"' | undefined
  const raw: boolean[] = []
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!
    if (quote === "'") {
      if (ch === "'") quote = undefined
      else current += ch
      continue
    }
    if (quote === '"') {
      if (ch === '"') quote = undefined
      else if (ch === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!))
        current += command[++i]
      else current += ch
      continue
    }
    if (ch === "'" || ch === '"') {
      quote = ch
      inWord = true
      raw[args.length] = false
      continue
    }
    if (ch === '\\') {
      if (i + 1 >= command.length) throw new CommandSyntaxError('command ends with a lone backslash')
      current += command[++i]
      inWord = true
      raw[args.length] = false
      continue
    }
    if (/\s/.test(ch)) {
      if (inWord) {
        args.push(current)
        current = ''
        inWord = false
      }
      continue
    }
    if (!inWord) raw[args.length] = true
    current += ch
    inWord = true
  }
  if (quote) throw new CommandSyntaxError(`unterminated ${quote === '"' ? 'double' : 'single'} quote`)
  if (inWord) args.push(current)
  if (args.length === 0) throw new CommandSyntaxError('command is empty')
  args.forEach((arg, i) => {
    // Only an unquoted operator is a mistake: `node x.js '|'` passes a literal pipe on purpose.
    if (raw[i] !== false && (SHELL_OPERATORS.has(arg) || arg.startsWith('$(') || arg.startsWith('`'))) {
      throw new CommandSyntaxError(
        `"${arg}" is shell syntax, but commands run without a shell; put the pipeline in a script, or write the command as an array`,
      )
    }
  })
  return args
}
