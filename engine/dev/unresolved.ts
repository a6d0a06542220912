/**
 * The plans a warm session saw fail and has not seen pass since. An agent that fixes what failed often edits
 * the change back towards the base: the diff then no longer selects the plans that failed, and the iteration
 * after the fix would run nothing and pass. The session selects them again until they pass, so that iteration
 * shows the fix holds (selection source `session`).
 */
import type { PlanResult, VerdictSelection } from '../verdict.js'

export class UnresolvedPlans {
  /** Plan name → the iteration it first failed in, since it last passed. */
  private readonly failing = new Map<string, number>()

  /** Learns from an iteration's plans: a failed or errored one is unresolved, one that passed no longer is. */
  record(iteration: number, plans: readonly PlanResult[]): void {
    for (const plan of plans) {
      if (plan.state === 'failed' || plan.state === 'errored') {
        if (!this.failing.has(plan.name)) this.failing.set(plan.name, iteration)
      } else if (plan.state === 'passed' || plan.state === 'warned') this.failing.delete(plan.name)
    }
  }

  /**
   * The selection with the unresolved plans it left out added, in name order; those the catalog no longer
   * has (renamed, removed) are forgotten.
   */
  addTo(selection: VerdictSelection, catalog: ReadonlySet<string>): VerdictSelection {
    for (const name of [...this.failing.keys()]) if (!catalog.has(name)) this.failing.delete(name)
    const chosen = new Set(selection.plans.map((p) => p.name))
    const again = [...this.failing]
      .filter(([name]) => !chosen.has(name))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, iteration]) => ({
        name,
        source: 'session' as const,
        reason: `failed in iteration #${iteration} and has not passed since; the change no longer selects it`,
      }))
    return again.length ? { ...selection, plans: [...selection.plans, ...again] } : selection
  }
}
