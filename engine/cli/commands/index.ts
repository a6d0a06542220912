import type { Command } from 'commander'
import { registerAdversary } from './adversary.js'
import { registerCi } from './ci.js'
import { registerMcp } from './mcp.js'
import { registerPlans } from './plans.js'
import { registerRun } from './run.js'
import { registerSandbox } from './sandbox.js'
import { registerSandboxes } from './sandboxes.js'
import { registerSelect } from './select.js'

/** Registers one top-level command (and its subcommands) on the program. */
export type RegisterCommand = (program: Command) => void

/** The CLI's commands, one file each. */
export const commands: Record<string, RegisterCommand> = {
  adversary: registerAdversary,
  ci: registerCi,
  mcp: registerMcp,
  plans: registerPlans,
  run: registerRun,
  sandbox: registerSandbox,
  sandboxes: registerSandboxes,
  select: registerSelect,
}
