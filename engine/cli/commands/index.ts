import type { Command } from 'commander'

/** Registers one top-level command (and its subcommands) on the program. */
export type RegisterCommand = (program: Command) => void

/**
 * The CLI's commands, one file each, loaded on demand: a command pulls in what it runs (the SDKs, the
 * Kubernetes client, every check kind), so `vigil plans lint` must not pay for `vigil mcp`.
 */
export const commands = {
  adversary: () => import('./adversary.js').then((m) => m.registerAdversary),
  ci: () => import('./ci.js').then((m) => m.registerCi),
  mcp: () => import('./mcp.js').then((m) => m.registerMcp),
  plans: () => import('./plans.js').then((m) => m.registerPlans),
  run: () => import('./run.js').then((m) => m.registerRun),
  sandbox: () => import('./sandbox.js').then((m) => m.registerSandbox),
  sandboxes: () => import('./sandboxes.js').then((m) => m.registerSandboxes),
  select: () => import('./select.js').then((m) => m.registerSelect),
} satisfies Record<string, () => Promise<RegisterCommand>>

export type CommandName = keyof typeof commands
