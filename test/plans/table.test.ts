import { describe, expect, it } from 'vitest'
import { formatTable } from '../../plans/table.js'

describe('formatTable', () => {
  it('pads columns to their widest cell, two spaces apart, with no trailing spaces', () => {
    expect(
      formatTable([
        ['orders', 'rules', 'paths match services/orders/**'],
        ['checkout-flow', 'llm', ''],
      ]),
    ).toEqual(['orders         rules  paths match services/orders/**', 'checkout-flow  llm'])
  })

  it('aligns the columns it is told to the right, and indents every line', () => {
    expect(
      formatTable(
        [
          ['plan', 'checks', 'time'],
          ['a', '12', '1.2s'],
          ['total', '3', '850ms'],
        ],
        { right: [1, 2], indent: '  ' },
      ),
    ).toEqual(['  plan   checks   time', '  a          12   1.2s', '  total       3  850ms'])
  })

  it('measures in code points, so bars and accents line up', () => {
    const lines = formatTable([
      ['sélection', '██░░', '50%'],
      ['run', '█░░░', '5%'],
    ])
    expect(lines).toEqual(['sélection  ██░░  50%', 'run        █░░░  5%'])
  })

  it('rules a header, and lets the last cell of a shorter row span without widening its column', () => {
    expect(
      formatTable(
        [
          ['selector', 'recall', 'precision'],
          ['rules', '0.90', '0.75'],
          ['llm', 'not measured: no API key in this run'],
        ],
        { rule: true },
      ),
    ).toEqual([
      'selector  recall  precision',
      '--------  ------  ---------',
      'rules     0.90    0.75',
      'llm       not measured: no API key in this run',
    ])
  })

  it('prints nothing for no rows', () => {
    expect(formatTable([])).toEqual([])
    expect(formatTable([], { rule: true })).toEqual([])
  })
})
