// orders configuration, all from the environment:
//   PORT            listen port (0 picks a free one)                    default 4000
//   HOST            listen address                                      default 127.0.0.1
//   CATALOG_URL     base URL of the catalog service                     required for ordering
//   PAYMENTS_URL    base URL of the payments service                    required for ordering
//   ORDERS_TOKENS   principals as "name:token,name:token"               required
//   ORDERS_STAFF    principals who may restock, as "name,name"           default none
//   UPSTREAM_TIMEOUT_MS  per-call timeout towards catalog and payments  default 5000
// A missing upstream URL is not fatal: the service starts (health stays green) and order
// creation answers 502, so a misconfigured deployment is visible without a crash loop.
import { listenPort } from '../lib/http.js'

const NAME = /^[a-z][a-z0-9_-]{0,31}$/

/** Parses "alice:alice-token,bob:bob-token" into token → principal. */
export function parseTokens(raw) {
  const tokens = new Map()
  for (const entry of raw.split(',')) {
    if (entry.trim() === '') continue
    const colon = entry.indexOf(':')
    const name = entry.slice(0, colon).trim()
    const token = entry.slice(colon + 1).trim()
    if (colon < 1 || !NAME.test(name) || token.length < 8) {
      throw new Error(
        `ORDERS_TOKENS: expected name:token with a token of at least 8 characters, got "${name || entry}"`,
      )
    }
    if (tokens.has(token))
      throw new Error(`ORDERS_TOKENS: principal "${name}" reuses another principal's token`)
    tokens.set(token, name)
  }
  if (tokens.size === 0) throw new Error('ORDERS_TOKENS is required, e.g. "alice:alice-token,bob:bob-token"')
  return tokens
}

function baseUrl(variable) {
  const raw = process.env[variable]
  if (!raw) {
    console.warn(`warning: ${variable} is not set; creating orders will fail with 502`)
    return undefined
  }
  try {
    return new URL(raw).href.replace(/\/+$/, '')
  } catch {
    console.warn(`warning: ${variable} is not a URL (${raw}); creating orders will fail with 502`)
    return undefined
  }
}

function parseStaff(raw, tokens) {
  const names = new Set([...tokens.values()])
  const staff = new Set(
    raw
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  )
  for (const name of staff)
    if (!names.has(name)) throw new Error(`ORDERS_STAFF: "${name}" is no principal of ORDERS_TOKENS`)
  return staff
}

function loadConfig() {
  const tokens = parseTokens(process.env.ORDERS_TOKENS ?? '')
  const timeout = Number(process.env.UPSTREAM_TIMEOUT_MS || 5000)
  if (!Number.isInteger(timeout) || timeout < 1)
    throw new Error('UPSTREAM_TIMEOUT_MS must be a positive integer')
  return {
    port: listenPort(4000),
    catalogUrl: baseUrl('CATALOG_URL'),
    paymentsUrl: baseUrl('PAYMENTS_URL'),
    tokens,
    staff: parseStaff(process.env.ORDERS_STAFF ?? '', tokens),
    upstreamTimeoutMs: timeout,
  }
}

let loaded
try {
  loaded = loadConfig()
} catch (error) {
  console.error(`orders: ${error.message}`)
  process.exit(1)
}

export const config = loaded
