import { describe, expect, it } from 'vitest'
import { parseCommand } from '../../../engine/processes/argv.js'

describe('parseCommand', () => {
  it.each([
    ['node server.js', ['node', 'server.js']],
    ['  node   "my server.js"  --name \'a b\' ', ['node', 'my server.js', '--name', 'a b']],
    ['echo x\\ y', ['echo', 'x y']],
    ['echo "say \\"hi\\" \\\\ \\n"', ['echo', 'say "hi" \\ \\n']],
    ["echo 'no $HOME or \\ escapes'", ['echo', 'no $HOME or \\ escapes']],
    ['echo "" \'\'', ['echo', '', '']],
    ["node x.js '|' '&&' \\;", ['node', 'x.js', '|', '&&', ';']],
    ['a"b"c', ['abc']],
  ])('%s', (command, argv) => {
    expect(parseCommand(command)).toEqual(argv)
  })

  it.each([
    ['node "x.js', /unterminated double quote/],
    ["node 'x.js", /unterminated single quote/],
    ['   ', /command is empty/],
    ['node x.js \\', /lone backslash/],
    ['npm run build && node x.js', /"&&" is shell syntax/],
    ['node x.js > out.log', /">" is shell syntax/],
    ['node $(which x)', /"\$\(which" is shell syntax/],
  ])('rejects %s', (command, message) => {
    expect(() => parseCommand(command)).toThrow(message)
  })
})
