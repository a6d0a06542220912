/**
 * In a test's own copy of the sample shop, the checkout-load plan measures for a fraction of its time.
 * The tests that run whole `vigil ci` runs on the shop assert the gate — selection, verdict, artefacts —
 * not latency, which test/engine/kinds/load/ owns; their load checks keep the same requests,
 * thresholds and regression rules (the sequential decision sets how many rounds), and measure half
 * the time per round.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const SHORTER: Array<[RegExp, string]> = [
  [/^warmup: 300ms$/gm, 'warmup: 100ms'],
  [/^duration: 2s$/gm, 'duration: 1s'],
]

/** Shortens `plans/checkout-load.md` under `shop` (a copy of samples/shop); throws if its shape changed. */
export function shortenLoad(shop: string): void {
  const file = path.join(shop, 'plans/checkout-load.md')
  let text = readFileSync(file, 'utf8')
  for (const [pattern, replacement] of SHORTER) {
    const found = text.match(pattern)?.length ?? 0
    if (found !== 2)
      throw new Error(`${file}: expected ${pattern} in both load blocks, found it ${found} times`)
    text = text.replace(pattern, replacement)
  }
  writeFileSync(file, text)
}
