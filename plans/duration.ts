/**
 * Durations as plans and the config write them: `500ms`, `30s`, `5m`, `1h`, combinations such as
 * `1m30s`, decimals such as `1.5s`, or a plain number of milliseconds.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/

/** True when `value` is a duration string this module understands. */
export function isDurationString(value: string): boolean {
  return WHOLE.test(value.trim())
}

/**
 * Parses a duration to milliseconds. Numbers are taken as milliseconds.
 * @throws RangeError with a plain message when the value is not a positive, finite duration.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0)
      throw new RangeError(`invalid duration ${value}: expected milliseconds >= 0`)
    return value
  }
  const text = value.trim()
  if (!WHOLE.test(text)) {
    throw new RangeError(
      `invalid duration "${value}": expected a number with a unit, like 500ms, 30s, 5m or 1h`,
    )
  }
  let total = 0
  PART.lastIndex = 0
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
  }
  return Math.round(total)
}

/** Renders milliseconds back as the shortest readable duration (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms < 1_000 || ms % 1_000 !== 0) return `${ms}ms`
  let rest = ms
  let out = ''
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    const count = Math.floor(rest / size)
    if (count > 0) out += `${count}${unit}`
    rest -= count * size
  }
  return out
}

/** An elapsed time for people: `850ms`, `1.25s`, `12.3s`, `2m05s`, `1h02m` (reporters, evidence lines). */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-'
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = ms / 1000
  if (s < 10) return `${s.toFixed(2)}s`
  if (s < 60) return `${s.toFixed(1)}s`
  const totalSeconds = Math.round(s)
  const hours = Math.floor(totalSeconds / 3600)
  const minutes = Math.floor((totalSeconds % 3600) / 60)
  const seconds = totalSeconds % 60
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`
  return `${minutes}m${String(seconds).padStart(2, '0')}s`
}
