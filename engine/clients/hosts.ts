/** Which hosts a sandbox may point at: loopback always, anything else only when allow-listed. */
import { isIP } from 'node:net'

/** True for `localhost`, `*.localhost`, 127.0.0.0/8, `::1` and IPv4-mapped loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || /^(0:){5}ffff:127\./.test(h) || /^::ffff:127\./.test(h)
  return false
}

/**
 * True when `host` is loopback or matches an `allowHosts` entry: an exact host name or IP,
 * `host:port` (then the port must match too), or `*.example.com` for any subdomain.
 */
export function isAllowedHost(url: URL, allowHosts: readonly string[]): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '')
  if (isLoopbackHost(host)) return true
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  return allowHosts.some((entry) => {
    const e = entry.toLowerCase().trim()
    if (e.startsWith('*.')) return host.endsWith(e.slice(1))
    const m = /^(.*):(\d+)$/.exec(e)
    if (m && isIP(e) !== 6) return m[1]!.replace(/^\[|\]$/g, '') === host && m[2] === port
    return e.replace(/^\[|\]$/g, '') === host
  })
}
