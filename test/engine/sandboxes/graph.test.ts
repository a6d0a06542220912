import { describe, expect, it } from 'vitest'
import { DependencyCycleError, startWaves } from '../../../engine/sandboxes/graph.js'

describe('startWaves', () => {
  it('groups independent services into sorted waves after their dependencies', () => {
    expect(
      startWaves({ orders: ['payments', 'catalog'], catalog: [], payments: [], web: ['orders'], audit: [] }),
    ).toEqual([['audit', 'catalog', 'payments'], ['orders'], ['web']])
  })

  it('names a cycle', () => {
    let error: unknown
    try {
      startWaves({ a: ['b'], b: ['c'], c: ['a'], d: [] })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(DependencyCycleError)
    expect((error as DependencyCycleError).cycle).toEqual(['a', 'b', 'c', 'a'])
    expect((error as Error).message).toBe('services depend on each other in a cycle: a → b → c → a')
  })
})
