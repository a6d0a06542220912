import type { AnyCheckKind } from '../api/kind.js'
import adversarial from './adversarial/kind.js'
import contract from './contract/kind.js'
import data from './data/kind.js'
import e2e from './e2e/kind.js'
import event from './event/kind.js'
import fault from './fault/kind.js'
import load from './load/kind.js'
import migration from './migration/kind.js'
import race from './race/kind.js'
import resources from './resources/kind.js'

/**
 * The check kinds, one folder each; the key is the word a plan's fence uses. Adding a kind is adding its
 * folder (`kind.ts` and what it needs) and a line here.
 */
export const checkKinds = {
  adversarial,
  contract,
  data,
  e2e,
  event,
  fault,
  load,
  migration,
  race,
  resources,
} satisfies Record<string, AnyCheckKind>

export type CheckKindName = keyof typeof checkKinds
