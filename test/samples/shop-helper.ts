/**
 * Starts the sample shop (samples/shop) as three real processes on free loopback ports, the way the
 * `process` sandbox does, for tests and benchmarks that need a system under test.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The shop's folder in this repository. */
export const SHOP_ROOT = fileURLToPath(new URL('../../samples/shop/', import.meta.url))

export const SHOP_SERVICES = ['catalog', 'payments', 'orders'] as const
export type ShopService = (typeof SHOP_SERVICES)[number]

/** The sample principals (the same as `secrets` in samples/shop/vigil.config.yaml); `ops` is staff. */
export const SHOP_TOKENS = { alice: 'alice-token', bob: 'bob-token', ops: 'ops-staff-token' } as const

export interface StartShopOptions {
  /** Folder holding catalog/, orders/ and payments/, e.g. a patched copy. @default SHOP_ROOT */
  root?: string
  /**
   * Extra environment per service, over what the helper sets (PORT, HOST, CATALOG_URL, PAYMENTS_URL,
   * ORDERS_TOKENS). `undefined` removes a variable.
   * @default {}
   */
  env?: Partial<Record<ShopService, Record<string, string | undefined>>>
  /** How long each service may take to print its listening line. @default 15000 */
  startTimeoutMs?: number
}

export interface RunningShop {
  /** Base URL of each service, without a trailing slash. */
  urls: Record<ShopService, string>
  tokens: typeof SHOP_TOKENS
  /** Every line the service printed so far (stdout and stderr, in arrival order). */
  logs(service: ShopService): string[]
  /** SIGTERM to every service, SIGKILL after 5 s; resolves with each exit code (null when killed). */
  stop(): Promise<Record<string, number | null>>
}

export class ShopStartError extends Error {
  readonly code = 'SHOP_START'
}

interface Started {
  child: ChildProcess
  url: string
  lines: string[]
  exited: Promise<number | null>
}

function startService(
  root: string,
  service: ShopService,
  env: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<Started> {
  const merged: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) if (value !== undefined) merged[key] = value
  const child = spawn(process.execPath, [path.join(root, service, 'server.js')], {
    cwd: root,
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    let settled = false
    const fail = (why: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new ShopStartError(`${service}: ${why}\n${lines.slice(-50).join('\n')}`))
    }
    const timer = setTimeout(() => fail(`not listening after ${timeoutMs} ms`), timeoutMs)
    const onLine = (line: string) => {
      lines.push(line)
      const match = / listening on (http:\/\/\S+)$/.exec(line)
      if (match && !settled) {
        settled = true
        clearTimeout(timer)
        resolve({ child, url: match[1]!, lines, exited })
      }
    }
    for (const stream of [child.stdout!, child.stderr!]) {
      let rest = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n')
        rest = parts.pop()!
        parts.forEach(onLine)
      })
    }
    child.once('error', (error) => fail(`cannot start: ${error.message}`))
    void exited.then((code) => fail(`exited with code ${code} before listening`))
  })
}

async function stopService(started: Started): Promise<number | null> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return started.exited
  started.child.kill('SIGTERM')
  const timer = setTimeout(() => started.child.kill('SIGKILL'), 5000)
  const code = await started.exited
  clearTimeout(timer)
  return code
}

/** Starts catalog and payments, then orders wired to them; stops whatever started if one fails. */
export async function startShop(options: StartShopOptions = {}): Promise<RunningShop> {
  const root = options.root ?? SHOP_ROOT
  const timeoutMs = options.startTimeoutMs ?? 15_000
  const base = { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1' }
  const started: Partial<Record<ShopService, Started>> = {}
  const stop = async () => {
    const entries = Object.entries(started)
    const codes = await Promise.all(entries.map(([, s]) => stopService(s)))
    return Object.fromEntries(entries.map(([name], i) => [name, codes[i] ?? null]))
  }
  try {
    // Both upstreams start at once; whichever did start is stopped again if the other fails.
    const upstreams = await Promise.allSettled(
      (['catalog', 'payments'] as const).map(async (name) => {
        started[name] = await startService(root, name, { ...base, ...options.env?.[name] }, timeoutMs)
      }),
    )
    const failed = upstreams.find((result) => result.status === 'rejected')
    if (failed) throw failed.reason
    const { catalog, payments } = started as Record<ShopService, Started>
    started.orders = await startService(
      root,
      'orders',
      {
        ...base,
        CATALOG_URL: catalog.url,
        PAYMENTS_URL: payments.url,
        ORDERS_TOKENS: Object.entries(SHOP_TOKENS)
          .map(([name, token]) => `${name}:${token}`)
          .join(','),
        ORDERS_STAFF: 'ops',
        ...options.env?.orders,
      },
      timeoutMs,
    )
  } catch (error) {
    await stop()
    throw error
  }
  const all = started as Record<ShopService, Started>
  return {
    urls: { catalog: all.catalog.url, payments: all.payments.url, orders: all.orders.url },
    tokens: SHOP_TOKENS,
    logs: (service) => [...all[service].lines],
    stop,
  }
}
