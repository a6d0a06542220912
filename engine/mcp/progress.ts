/**
 * MCP progress for a run: one unit for starting the sandboxes, then one per check. Progress only ever
 * grows, as the protocol requires, and a notification that cannot be sent never disturbs the run.
 */
import type { RunReporter } from '../run/run.js'
import type { CheckResult, RunStartInfo } from '../verdict.js'

/** Sends one `notifications/progress` (the token is added by the caller). */
export type ProgressSender = (params: { progress: number; total?: number; message?: string }) => Promise<void>

export function progressReporter(
  send: ProgressSender | undefined,
  log: (line: string) => void,
): RunReporter & { begin(): void } {
  if (!send) return { begin: () => undefined }
  let total: number | undefined
  let done = 0
  let warned = false
  const notify = (progress: number, message: string) => {
    send({ progress, ...(total === undefined ? {} : { total }), message }).catch((error: unknown) => {
      if (warned) return
      warned = true
      log(`progress notifications failed: ${(error as Error)?.message ?? String(error)}`)
    })
  }
  return {
    begin() {
      notify(0, 'loading plans and starting sandboxes')
    },
    onRunStart(info: RunStartInfo) {
      const checks = info.plans.reduce((n, p) => n + p.checks.length, 0)
      total = checks + 1
      const where = info.sandboxes.map((s) => s.name).join(' and ') || 'no sandboxes'
      notify(1, `sandboxes ready (${where}); running ${checks} check(s) of ${info.plans.length} plan(s)`)
    },
    onCheckEnd(result: CheckResult) {
      done++
      notify(1 + done, `${result.plan} › ${result.check} [${result.kind}]: ${result.state}`)
    },
  }
}
