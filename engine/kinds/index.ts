import adversarial from './adversarial/kind.js'
import contract from './contract/kind.js'
import e2e from './e2e/kind.js'
import load from './load/kind.js'
import type { CheckKind } from '../api/kind.js'

/**
 * The check kinds, one file each; the key is the word a plan's fence uses.
 * Typed loosely on purpose: each kind narrows its own params.
 */
export const checkKinds = {
  adversarial,
  contract,
  e2e,
  load,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
} satisfies Record<string, CheckKind<any>>

export type CheckKindName = keyof typeof checkKinds
