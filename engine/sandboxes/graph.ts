/** Start order of a stack: each service after the services it depends on. */
import { VigilError } from '../errors.js'

/** Services that depend on each other in a cycle cannot start: exit 2. */
export class DependencyCycleError extends VigilError {
  constructor(readonly cycle: string[]) {
    super('VIGIL_SANDBOX_CYCLE', `services depend on each other in a cycle: ${cycle.join(' → ')}`, {
      exitCode: 2,
    })
  }
}

/**
 * Groups services into waves: every service of a wave depends only on services of earlier waves, so a
 * wave's services can start in parallel. Names are sorted inside a wave, so the order is deterministic.
 * Throws DependencyCycleError naming one cycle.
 */
export function startWaves(deps: Readonly<Record<string, readonly string[]>>): string[][] {
  const remaining = new Map(Object.entries(deps).map(([name, d]) => [name, new Set(d)]))
  const waves: string[][] = []
  while (remaining.size > 0) {
    const wave = [...remaining]
      .filter(([, d]) => [...d].every((dep) => !remaining.has(dep)))
      .map(([name]) => name)
      .sort()
    if (wave.length === 0) throw new DependencyCycleError(findCycle(remaining))
    for (const name of wave) remaining.delete(name)
    waves.push(wave)
  }
  return waves
}

function findCycle(graph: Map<string, Set<string>>): string[] {
  // Every node left has a dependency left, so walking any path must revisit a node.
  const start = [...graph.keys()].sort()[0]!
  const path: string[] = []
  const seen = new Map<string, number>()
  let node = start
  while (!seen.has(node)) {
    seen.set(node, path.length)
    path.push(node)
    node = [...graph.get(node)!].filter((d) => graph.has(d)).sort()[0]!
  }
  return [...path.slice(seen.get(node)), node]
}
