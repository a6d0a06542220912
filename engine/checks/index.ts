import type { CheckKind } from './types.js'

/**
 * The check kinds, one file each; the key is the word a plan's fence uses.
 * Typed loosely on purpose: each kind narrows its own params.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const checkKinds = {} satisfies Record<string, CheckKind<any>>

export type CheckKindName = keyof typeof checkKinds
