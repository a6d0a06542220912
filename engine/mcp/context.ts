/**
 * What every MCP tool shares: the config (re-read on each call, so plans an agent just edited count),
 * the catalog, and the shape of results and tool errors.
 */
import path from 'node:path'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { loadConfig, type LoadedConfig } from '../../plans/config.js'
import type { LoadPlansResult } from '../../plans/loader.js'
import { insideRoots, realLocation } from '../../plans/files.js'
import { Redactor, redactableKeys } from '../../plans/redact.js'
import { UsageError } from '../errors.js'
import { parseDuration } from '../../plans/duration.js'
import { loadPlansForRun, projectFileRoots } from '../run/load-plans.js'
import { configRedactor } from '../vars.js'

export interface McpServerOptions {
  /** vigil.config.yaml, relative to `cwd`. @default `vigil.config.yaml` in `cwd`, else the defaults */
  configPath?: string
  /** Folder relative paths (patch files, plan paths) resolve against. @default process.cwd() */
  cwd?: string
  /** @default process.env */
  env?: NodeJS.ProcessEnv
  /** Diagnostics for the operator (never stdout: that is the protocol's). @default stderr lines */
  log?: (line: string) => void
  /** Idle time after which a warm session's sandboxes are stopped. @default env VIGIL_SESSION_IDLE, else 10 minutes */
  sessionIdleMs?: number
}

/** Options with their defaults applied. */
export interface McpContext {
  configPath?: string
  cwd: string
  env: NodeJS.ProcessEnv
  log: (line: string) => void
  sessionIdleMs: number
}

export function mcpContext(options: McpServerOptions = {}): McpContext {
  return {
    ...(options.configPath === undefined ? {} : { configPath: options.configPath }),
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
    log: options.log ?? ((line) => void process.stderr.write(`vigil mcp: ${line}\n`)),
    sessionIdleMs: options.sessionIdleMs ?? idleFromEnv(options.env ?? process.env),
  }
}

export interface Catalog {
  loaded: LoadedConfig
  result: LoadPlansResult
}

/** The config and its plans, read now. Config errors throw (and become tool errors). */
export async function loadCatalog(ctx: McpContext, paths?: readonly string[]): Promise<Catalog> {
  const loaded = await loadConfig(ctx.configPath, ctx.cwd)
  if (paths?.length) await confinePaths(loaded, paths, ctx.cwd)
  return { loaded, result: await loadPlansForRun(loaded, paths, ctx.cwd) }
}

/**
 * Plan paths an agent gives stay inside the project (the config's git repository, else its folder, and its
 * allowFiles), after symlinks: `["/etc"]` or `["../.."]` is a usage error, not a walk of the disk. A glob
 * is judged by the folder before its first wildcard.
 * @throws UsageError naming the first path that leads out
 */
async function confinePaths(loaded: LoadedConfig, paths: readonly string[], cwd: string): Promise<void> {
  const roots = await projectFileRoots(loaded)
  for (const given of paths) {
    const fixed = given.split(/[*?[{]/, 1)[0] ?? ''
    const real = await realLocation(path.resolve(cwd, fixed === '' ? '.' : fixed))
    if (!insideRoots(real, roots))
      throw new UsageError(
        `path "${given}" is outside the project; give plan files, folders or globs inside it (relative to ${cwd === loaded.dir ? 'this folder' : "the server's working folder"})`,
      )
  }
}

/** A successful result: a short text for people, the JSON for programs (text and structured). */
export function jsonResult(value: object, summary?: string): CallToolResult {
  const json = JSON.stringify(value, null, 2)
  return {
    content: [...(summary ? [{ type: 'text' as const, text: summary }] : []), { type: 'text', text: json }],
    structuredContent: value as Record<string, unknown>,
  }
}

/**
 * A successful result whose text is the summary alone, the value being only in `structuredContent` (for a
 * large value an agent should not pay for twice: the verdict).
 */
export function structuredResult(value: object, summary: string): CallToolResult {
  return {
    content: [{ type: 'text', text: summary }],
    structuredContent: value as Record<string, unknown>,
  }
}

/** A tool error: the call failed, the server lives on, the message says why and what to do. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true }
}

/**
 * Runs a tool body; a thrown error becomes a tool error whose message starts with the tool's name, with
 * the config's secrets and the API key redacted (results are redacted where they are made: the verdict
 * by the run, the selection record by the selector).
 */
export async function guarded(
  tool: string,
  ctx: McpContext | undefined,
  work: () => Promise<CallToolResult>,
): Promise<CallToolResult> {
  try {
    return await work()
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const redactor = ctx ? await errorRedactor(ctx) : undefined
    return toolError(`${tool}: ${redactor ? redactor.text(message) : message}`)
  }
}

/** The config's redactor as the config is now; without a usable config, the API key alone. */
async function errorRedactor(ctx: McpContext): Promise<Redactor> {
  try {
    return configRedactor(await loadConfig(ctx.configPath, ctx.cwd), ctx.env)
  } catch {
    return new Redactor({ secrets: redactableKeys([ctx.env.ANTHROPIC_API_KEY]) })
  }
}

/** `VIGIL_SESSION_IDLE` (`90s`, `10m`) in milliseconds; 10 minutes when unset. A bad value is a usage error. */
function idleFromEnv(env: NodeJS.ProcessEnv): number {
  const value = env.VIGIL_SESSION_IDLE
  if (value === undefined || value === '') return 10 * 60_000
  try {
    return parseDuration(value)
  } catch (error) {
    throw new UsageError(`VIGIL_SESSION_IDLE ${value}: ${(error as Error).message}`, { cause: error })
  }
}
