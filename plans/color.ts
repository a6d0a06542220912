/**
 * The one rule for colour in vigil's output, for every command and reporter: `NO_COLOR` set to anything
 * but the empty string turns it off (no-color.org); otherwise `FORCE_COLOR` turns it on unless it is `0` or
 * `false`; otherwise colour goes to a terminal whose `TERM` is not `dumb`.
 */
export function colorEnabled(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
  return isTTY && env.TERM !== 'dumb'
}
