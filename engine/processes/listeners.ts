/**
 * Who listens on a port: the service's own process group, or someone else. A readiness probe that
 * connects only proves that *something* listens; when another process took the port between vigil
 * choosing it and the service binding it, the probe reaches that process while the service is about
 * to fail with EADDRINUSE. On Linux the listening socket's inode (/proc/net/tcp, /proc/net/tcp6) is
 * matched against the descriptors of the group's processes (/proc/<pid>/fd); elsewhere the answer is
 * `unknown` and the caller keeps the probe's word.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { endianness } from 'node:os'
import { groupMembers } from './process-tree.js'

export type ListenerOwner =
  | { owner: 'group' }
  /** A listener accepts the host's connections on the port, and none of the group's processes holds it. */
  | { owner: 'other'; pids: number[] }
  /** The tables were read and no listener accepts the host's connections on the port now. */
  | { owner: 'none' }
  /** No /proc, or the descriptors of the group's processes cannot be read. */
  | { owner: 'unknown' }

const LISTEN = '0A'

/**
 * Whether the listener that accepts connections to `host:port` belongs to the process group `pgid`.
 * `host` is a numeric IPv4 or IPv6 address.
 */
export function listenerOwner(host: string, port: number, pgid: number): ListenerOwner {
  const inodes = listeningInodes(host, port)
  if (inodes === undefined) return { owner: 'unknown' }
  if (inodes.size === 0) return { owner: 'none' }
  const members = groupMembers(pgid)
  // A group with no process left holds nothing: whatever listens is someone else's.
  let readable = members.length === 0
  for (const pid of members) {
    const held = socketInodes(pid)
    if (held === undefined) continue
    readable = true
    for (const inode of held) if (inodes.has(inode)) return { owner: 'group' }
  }
  if (!readable) return { owner: 'unknown' }
  return { owner: 'other', pids: holders(inodes) }
}

/**
 * The TCP listeners the process group `pgid` holds (address and port), sorted by port; undefined where
 * that cannot be told (no /proc, or the group's descriptors cannot be read).
 */
export function groupListeners(pgid: number): Array<{ host: string; port: number }> | undefined {
  const sockets = listeningSockets()
  if (!sockets) return undefined
  const byInode = new Map(sockets.map(({ inode, host, port }) => [inode, { host, port }]))
  const out: Array<{ host: string; port: number }> = []
  for (const pid of groupMembers(pgid)) {
    const held = socketInodes(pid)
    if (held === undefined) return undefined
    for (const inode of held) {
      const listener = byInode.get(inode)
      if (listener && !out.some((l) => l.port === listener.port && l.host === listener.host))
        out.push(listener)
    }
  }
  return out.sort((a, b) => a.port - b.port)
}

/** Inodes of the LISTEN sockets on `port` that accept connections to `host`; undefined without /proc. */
function listeningInodes(host: string, port: number): Set<string> | undefined {
  const wanted = new Set([normalise(host), '0.0.0.0', '::'])
  if (!host.includes(':')) wanted.add(`::ffff:${host}`)
  const sockets = listeningSockets()
  if (!sockets) return undefined
  return new Set(sockets.filter((s) => s.port === port && wanted.has(s.host)).map((s) => s.inode))
}

/** Every TCP socket in LISTEN state (IPv4 and IPv6) with its inode; undefined without /proc. */
function listeningSockets(): Array<{ inode: string; host: string; port: number }> | undefined {
  let found = false
  const out: Array<{ inode: string; host: string; port: number }> = []
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    found = true
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      if (fields.length < 10 || fields[3] !== LISTEN) continue
      const [address, hexPort] = fields[1]!.split(':')
      out.push({ inode: fields[9]!, host: decodeAddress(address!), port: parseInt(hexPort!, 16) })
    }
  }
  return found ? out : undefined
}

/**
 * The socket inodes among the open descriptors of `pid`: none once it has gone; undefined when they
 * cannot be read (another user's process).
 */
function socketInodes(pid: number): string[] | undefined {
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? [] : undefined
  }
  const inodes: string[] = []
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`)
      if (target.startsWith('socket:[')) inodes.push(target.slice(8, -1))
    } catch {
      // closed meanwhile
    }
  }
  return inodes
}

/** The processes holding any of `inodes`, for the message (the listener's owner is rarely more than one). */
function holders(inodes: Set<string>): number[] {
  const pids: number[] = []
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return pids
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    if (socketInodes(Number(entry))?.some((inode) => inodes.has(inode))) pids.push(Number(entry))
  }
  return pids
}

/** Where each byte of a 32-bit word of /proc/net/tcp{,6} is, written in host byte order. */
const BYTE_ORDER = endianness() === 'LE' ? [6, 4, 2, 0] : [0, 2, 4, 6]

/** An address of /proc/net/tcp{,6} as text. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? []
  const bytes = words.flatMap((w) => BYTE_ORDER.map((i) => parseInt(w.slice(i, i + 2), 16)))
  if (bytes.length === 4) return bytes.join('.')
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return `::ffff:${bytes.slice(12).join('.')}`
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
  return normalise(groups.join(':'))
}

/** One spelling per IPv6 address (the longest run of zero groups compressed), IPv4 as is. */
function normalise(address: string): string {
  if (!address.includes(':')) return address
  const url = new URL(`http://[${address}]/`)
  return url.hostname.slice(1, -1)
}
