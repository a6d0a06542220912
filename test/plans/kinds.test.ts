import { describe, expect, it } from 'vitest'
import { classifyFence } from '../../plans/kinds.js'

const kinds = ['contract', 'e2e', 'load', 'adversarial']

describe('classifyFence', () => {
  it.each([
    ['contract', { role: 'check', kind: 'contract' }],
    [
      'contract Order matches its schema',
      { role: 'check', kind: 'contract', name: 'Order matches its schema' },
    ],
    ['e2e "Create, then read"', { role: 'check', kind: 'e2e', name: 'Create, then read' }],
    ['contrct', { role: 'unknown-kind', word: 'contrct', suggestion: 'contract' }],
    ['Contract', { role: 'unknown-kind', word: 'Contract', suggestion: 'contract' }],
    ['adversrial', { role: 'unknown-kind', word: 'adversrial', suggestion: 'adversarial' }],
    ['lod', { role: 'unknown-kind', word: 'lod', suggestion: 'load' }],
    ['e2e-smoke', { role: 'unknown-kind', word: 'e2e-smoke', suggestion: 'e2e' }],
    ['js', { role: 'documentation' }],
    ['yaml', { role: 'documentation' }],
    ['log', { role: 'documentation' }],
    ['lua', { role: 'documentation' }],
    ['', { role: 'documentation' }],
    ['markdown', { role: 'documentation' }],
  ] as const)('%j', (info, expected) => {
    expect(classifyFence(info, kinds)).toEqual(expected)
  })
})
