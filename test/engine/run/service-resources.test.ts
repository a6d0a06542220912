/**
 * The run's sampling of every sandbox service: a real process group read from /proc a few times a second,
 * its series thinned with its peaks kept, and nothing for a side that runs no local process.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import type { Sandbox } from '../../../engine/api/sandbox.js'
import { thin, watchServices } from '../../../engine/run/service-resources.js'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.pid) process.kill(-child.pid, 'SIGKILL')
})

/** A process group holding ~40 MB on the heap and one extra descriptor, once it says it does. */
async function startHolder(): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "globalThis.held = Buffer.alloc(40e6, 1); require('fs').openSync(process.execPath); console.log('ready'); setInterval(() => {}, 1000)",
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
  )
  children.push(child)
  await new Promise((resolve, reject) => {
    child.stdout!.once('data', resolve)
    child.once('exit', () => reject(new Error('the holder exited')))
  })
  return child.pid!
}

const sandbox = (name: string, pids: Record<string, number | undefined>): Sandbox =>
  ({
    name,
    services: Object.fromEntries(Object.keys(pids).map((s) => [s, { url: 'http://127.0.0.1:1' }])),
    pid: (service: string) => pids[service],
  }) as unknown as Sandbox

describe('service resources', () => {
  it('samples each local service per side, a few times a second, with peaks and CPU time', async () => {
    const pid = await startHolder()
    const watch = watchServices([sandbox('candidate', { api: pid, remote: undefined }), undefined], 50)
    await new Promise((resolve) => setTimeout(resolve, 800))
    const resources = watch.stop()!
    expect(resources.intervalMs).toBe(50)
    expect(resources.services.map((s) => [s.side, s.service])).toEqual([['candidate', 'api']])
    const api = resources.services[0]!
    expect(api.samples.length).toBeGreaterThanOrEqual(5)
    expect(api.peak.rss).toBeGreaterThan(40e6)
    expect(api.peak.fds).toBeGreaterThanOrEqual(4)
    expect(api.peak.threads).toBeGreaterThanOrEqual(1)
    expect(api.cpuMs).toBeGreaterThanOrEqual(0)
    expect(api.samples.every((s, i) => i === 0 || s.atMs >= api.samples[i - 1]!.atMs)).toBe(true)
  })

  it('samples each copy a check starts from its start until it ends, named for the check, on the services’ clock', async () => {
    const service = await startHolder()
    const watch = watchServices([sandbox('candidate', { orders: service })], 50)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const check = { plan: 'orders-faults', check: 'payments unavailable' }
    const first = await startHolder()
    const endFirst = watch.watchCopy({ side: 'candidate', service: 'orders', ...check, pid: first })
    const onBaseline = watch.watchCopy({
      side: 'baseline',
      service: 'orders',
      ...check,
      pid: await startHolder(),
    })
    await new Promise((resolve) => setTimeout(resolve, 400))
    endFirst()
    endFirst()
    onBaseline()
    const second = watch.watchCopy({
      side: 'candidate',
      service: 'orders',
      ...check,
      pid: await startHolder(),
    })
    // The first copy is still running: its series ended when it was told, not when its process went.
    expect(() => process.kill(first, 0)).not.toThrow()
    await new Promise((resolve) => setTimeout(resolve, 400))
    const resources = watch.stop()!
    second()
    expect(watch.watchCopy({ side: 'candidate', service: 'orders', ...check, pid: first })()).toBeUndefined()
    expect(resources.services.map((s) => [s.side, s.service, s.copy])).toEqual([
      ['candidate', 'orders', undefined],
      ['candidate', 'orders', check],
      ['baseline', 'orders', check],
      ['candidate', 'orders', { ...check, nth: 2 }],
    ])
    const [main, copy, baseline, later] = resources.services
    for (const s of [copy!, baseline!, later!]) {
      expect(s.peak.rss).toBeGreaterThan(40e6)
      expect(s.samples.length).toBeGreaterThanOrEqual(2)
    }
    // One clock: the copies start after the services did, and the first ended before the second began.
    expect(copy!.samples[0]!.atMs).toBeGreaterThanOrEqual(150)
    expect(copy!.samples.at(-1)!.atMs).toBeLessThanOrEqual(later!.samples[0]!.atMs)
    expect(later!.samples.at(-1)!.atMs).toBe(main!.samples.at(-1)!.atMs)
    expect(main!.samples.at(-1)!.atMs - copy!.samples.at(-1)!.atMs).toBeGreaterThanOrEqual(300)
  })

  it('gives nothing for sides without local processes', () => {
    expect(watchServices([sandbox('candidate', { api: undefined })]).stop()).toBeUndefined()
    expect(watchServices([]).stop()).toBeUndefined()
  })

  it('thins a long series to at most the points asked for, keeping each stretch’s peaks', () => {
    const series = Array.from({ length: 1000 }, (_, i) => ({
      atMs: i * 10,
      rss: i === 537 ? 9e9 : 1e6 + i,
      cpuMs: i,
      fds: i === 12 ? 99 : 10,
      threads: 7,
    }))
    const thinned = thin(series, 100)
    expect(thinned).toHaveLength(100)
    expect(Math.max(...thinned.map((p) => p.rss))).toBe(9e9)
    expect(Math.max(...thinned.map((p) => p.fds))).toBe(99)
    expect(thinned.at(-1)).toMatchObject({ atMs: 9990, cpuMs: 999 })
    expect(thin(series.slice(0, 50), 100)).toHaveLength(50)
  })
})
