/**
 * The MCP server's warm session: at most one at a time, kept between `run_plans` calls with `session: true`
 * (or from `start_session` to `stop_session`), torn down after an idle timeout so a forgotten session does
 * not keep sandboxes running.
 */
import { DevSession } from '../dev/session.js'
import { onShutdown } from '../lifecycle.js'
import type { McpContext } from './context.js'

export interface SessionKey {
  /** The ref the baseline runs from. */
  base: string
  /** Run the deferred kinds too. */
  all: boolean
}

export class McpSessions {
  private current: { key: SessionKey; session: DevSession } | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly unregister: () => void

  constructor(private readonly ctx: McpContext) {
    this.unregister = onShutdown(async () => {
      await this.stop()
    })
  }

  /** The session for `key`: the warm one when it matches, else a new one (the other is stopped). */
  async get(key: SessionKey): Promise<{ session: DevSession; replaced?: string }> {
    // Not idle while a call uses it: the countdown starts again when the call ends (`touch`).
    clearTimeout(this.timer)
    const now = this.current
    if (now && now.key.base === key.base && now.key.all === key.all) return { session: now.session }
    let replaced: string | undefined
    if (now) {
      replaced = `the session of base ${now.key.base}${now.key.all ? ' with all kinds' : ''} was replaced`
      this.current = undefined
      await now.session.stop()
    }
    const session = new DevSession({
      ...(this.ctx.configPath === undefined ? {} : { configPath: this.ctx.configPath }),
      cwd: this.ctx.cwd,
      base: key.base,
      all: key.all,
      env: this.ctx.env,
      log: this.ctx.log,
      requester: this.ctx.env.VIGIL_REQUESTER ?? 'mcp',
      // An agent's turn between its edit and its next call hides the restart of what it edited.
      restartOnSave: true,
    })
    this.current = { key, session }
    return { session, ...(replaced ? { replaced } : {}) }
  }

  /** The running session's key and iterations, if any. */
  describe(): { key: SessionKey; iterations: number } | undefined {
    return this.current && { key: this.current.key, iterations: this.current.session.iteration }
  }

  /** Restarts the idle countdown; every call that used the session calls it when it ends. */
  touch(): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      if (!this.current) return
      this.ctx.log(`the warm session was idle for ${Math.round(this.ctx.sessionIdleMs / 1000)}s: stopping it`)
      void this.stop()
    }, this.ctx.sessionIdleMs)
    this.timer.unref()
  }

  /** Stops the session's sandboxes; true when there was one. */
  async stop(): Promise<boolean> {
    clearTimeout(this.timer)
    const now = this.current
    this.current = undefined
    if (!now) return false
    await now.session.stop()
    return true
  }

  /** Stops the session and forgets the shutdown hook (the server closed). */
  async close(): Promise<void> {
    await this.stop()
    this.unregister()
  }
}
