/**
 * The leak detector: the slope of resident memory over repeated identical requests, robust to garbage
 * collection's saw-teeth. The run is cut into windows by request count; each window's lowest RSS is the
 * memory left after a collection (the floor of the teeth); the slope is the Theil–Sen estimate (the
 * median of the slopes between every pair of floors), which one late collection or one spike cannot move.
 * The first windows are warm-up (JIT, pools, caches filling once) and are left out.
 */

export interface LeakPoint {
  /** Requests completed when the sample was taken. */
  requests: number
  rss: number
}

export interface LeakEstimate {
  /** RSS growth in bytes per 1000 requests (negative when memory shrinks). */
  bytesPer1000: number
  /** The floors it was estimated from: requests at the window's lowest sample, and that RSS. */
  floors: LeakPoint[]
}

/** @default windows 10, warm-up windows 2 */
export function leakSlope(points: readonly LeakPoint[], windows = 10, warmup = 2): LeakEstimate | undefined {
  if (points.length < windows) return undefined
  const last = points[points.length - 1]!.requests
  const floors: LeakPoint[] = []
  for (let w = warmup; w < windows; w++) {
    const from = (last * w) / windows
    const to = (last * (w + 1)) / windows
    const inWindow = points.filter((p) => p.requests > from && p.requests <= to)
    if (inWindow.length === 0) continue
    floors.push(inWindow.reduce((low, p) => (p.rss < low.rss ? p : low)))
  }
  if (floors.length < 3) return undefined
  const slopes: number[] = []
  for (let i = 0; i < floors.length; i++) {
    for (let j = i + 1; j < floors.length; j++) {
      const dx = floors[j]!.requests - floors[i]!.requests
      if (dx > 0) slopes.push((floors[j]!.rss - floors[i]!.rss) / dx)
    }
  }
  slopes.sort((a, b) => a - b)
  const mid = slopes.length / 2
  const median = slopes.length % 2 ? slopes[Math.floor(mid)]! : (slopes[mid - 1]! + slopes[mid]!) / 2
  return { bytesPer1000: median * 1000, floors }
}
