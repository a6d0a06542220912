/**
 * The bed's principals and the holes that need them or that only behaviour shows: a missing role check,
 * mass assignment, a foreign write that sticks behind a 403, user enumeration, no rate limit on the login,
 * a catastrophic-backtracking validator. The principals: bearer tokens (`owner` and `other` are ordinary
 * users, `admin` is one) and cookie sessions from `POST /login`.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export const BED_TOKENS = { owner: 'bed-owner-token', other: 'bed-other-token', admin: 'bed-admin-token' }

const USERS: Record<string, { password: string; role: string; email: string }> = {
  bob: { password: 'bob-pass', role: 'user', email: 'bob@bed.test' },
  cy: { password: 'cy-pass', role: 'user', email: 'cy@bed.test' },
  ada: { password: 'ada-pass', role: 'admin', email: 'ada@bed.test' },
  dee: { password: 'dee-pass', role: 'user', email: 'dee@bed.test' },
}
const BY_TOKEN: Record<string, string> = {
  [BED_TOKENS.owner]: 'bob',
  [BED_TOKENS.other]: 'cy',
  [BED_TOKENS.admin]: 'ada',
}

/** The linear check of the twin, and the hole's: nested quantifiers backtrack exponentially on `aaa…!`. */
const HANDLE_SAFE = /^[a-z0-9_-]+$/
const HANDLE_CATASTROPHIC = /^([a-z0-9]+[-_]?)+$/

const str = { type: 'string', minLength: 1, maxLength: 200 }
const json = (schema: unknown, example: unknown) => ({
  required: true,
  content: { 'application/json': { schema, example } },
})
const anyUser = [{ bearer: [] }, { session: [] }]

/** How long the login's password check takes where it is done. */
const HASH_MS = 200

/** The OpenAPI paths of these operations, and the security schemes they use. */
export const BED_AUTH_PATHS = {
  '/login': {
    post: {
      operationId: 'login',
      requestBody: json(
        {
          type: 'object',
          required: ['username', 'password'],
          properties: { username: str, password: str },
          additionalProperties: false,
        },
        { username: 'dee', password: 'dee-pass' },
      ),
      responses: { '200': { description: 'logged in' }, '401': { description: 'no' } },
    },
  },
  '/admin/users': {
    get: {
      operationId: 'listUsers',
      security: [{ bearer: ['admin'] }, { session: ['admin'] }],
      responses: { '200': { description: 'every user' }, '403': { description: 'not an admin' } },
    },
  },
  '/profile': {
    get: { operationId: 'getProfile', security: anyUser, responses: { '200': { description: 'it' } } },
    patch: {
      operationId: 'updateProfile',
      security: anyUser,
      requestBody: json({ type: 'object', properties: { name: str } }, { name: 'Bob' }),
      responses: { '200': { description: 'updated' } },
    },
  },
  '/notes': {
    post: {
      operationId: 'createNote',
      security: anyUser,
      requestBody: json(
        { type: 'object', required: ['text'], properties: { text: str }, additionalProperties: false },
        { text: 'hello' },
      ),
      responses: { '201': { description: 'created' } },
    },
  },
  '/notes/{noteId}': {
    get: {
      operationId: 'getNote',
      security: anyUser,
      parameters: [{ name: 'noteId', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': { description: 'the note' }, '404': { description: 'none' } },
    },
    put: {
      operationId: 'updateNote',
      security: anyUser,
      parameters: [{ name: 'noteId', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: json(
        { type: 'object', required: ['text'], properties: { text: str }, additionalProperties: false },
        { text: 'hello again' },
      ),
      responses: { '200': { description: 'updated' }, '404': { description: 'none' } },
    },
  },
  '/password-reset': {
    post: {
      operationId: 'requestPasswordReset',
      requestBody: json(
        {
          type: 'object',
          required: ['email'],
          properties: { email: { type: 'string', minLength: 3, maxLength: 100 } },
          additionalProperties: false,
        },
        { email: 'bob@bed.test' },
      ),
      responses: { '202': { description: 'a mail is on its way if the account exists' } },
    },
  },
  '/users/lookup': {
    get: {
      operationId: 'lookupHandle',
      parameters: [
        {
          name: 'handle',
          in: 'query',
          required: true,
          schema: { type: 'string', maxLength: 40, pattern: '^([a-z0-9]+[-_]?)+$' },
        },
      ],
      responses: { '200': { description: 'found or not' }, '400': { description: 'bad handle' } },
    },
  },
}

export const BED_SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer' },
  session: { type: 'apiKey', in: 'cookie', name: 'session' },
}

/** The block's principals for the bed: two ordinary users and an admin by token, a user by cookie session. */
export const BED_PRINCIPALS = {
  owner: { token: BED_TOKENS.owner, roles: ['user'] },
  other: { token: BED_TOKENS.other, roles: ['user'] },
  admin: { token: BED_TOKENS.admin, roles: ['admin'] },
  member: {
    login: { request: { method: 'POST', path: '/login', json: { username: 'dee', password: 'dee-pass' } } },
    roles: ['user'],
  },
}

/** Setup: the owner creates a note, the target of the foreign write. */
export const BED_SETUP = [
  { request: { method: 'POST', path: '/notes', json: { text: 'mine' } }, capture: { noteId: '/id' } },
]

type Send = (res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>) => void

/** A handler for these operations; returns false when the request is not one of them. */
export function bedAuth(
  safe: boolean,
): (
  method: string,
  url: URL,
  input: Record<string, unknown> | undefined,
  headers: IncomingHttpHeaders,
  res: ServerResponse,
  send: Send,
) => boolean {
  const sessions = new Map<string, string>()
  const profiles = new Map(Object.entries(USERS).map(([u, x]) => [u, { name: u, role: x.role }]))
  const notes = new Map<string, { owner: string; text: string }>()
  let failedLogins = 0
  const who = (headers: IncomingHttpHeaders): string | undefined => {
    const bearer = /^Bearer (\S+)$/.exec(headers.authorization ?? '')?.[1]
    if (bearer) return BY_TOKEN[bearer]
    const sid = /(?:^|;\s*)session=([^;]+)/.exec(headers.cookie ?? '')?.[1]
    return sid ? sessions.get(sid) : undefined
  }
  const text = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 200
  return (method, url, input, headers, res, send) => {
    const path = url.pathname
    const user = who(headers)
    if (method === 'POST' && path === '/login') {
      if (!input || !text(input.username) || !text(input.password) || Object.keys(input).length !== 2)
        return (send(res, 400, { error: 'invalid' }), true)
      // Hole: no limit on failed attempts; the twin answers 429 after five.
      if (safe && failedLogins >= 5)
        return (send(res, 429, { error: 'too many attempts' }, { 'retry-after': '60' }), true)
      const account = USERS[input.username as string]
      if (!account || account.password !== input.password) {
        failedLogins++
        // Hole: only an existing account's password is "hashed" (slow), so a missing one is told apart by
        // time; the twin takes as long for both.
        const wait = safe || account ? HASH_MS : 0
        setTimeout(() => send(res, 401, { error: 'wrong username or password' }), wait)
        return true
      }
      const sid = randomBytes(12).toString('hex')
      sessions.set(sid, input.username as string)
      send(
        res,
        200,
        { ok: true },
        { 'set-cookie': `session=${sid}; Path=/; HttpOnly; Secure; SameSite=Strict` },
      )
      return true
    }
    if (method === 'POST' && path === '/password-reset') {
      const email = input?.email
      if (
        typeof email !== 'string' ||
        email.length < 3 ||
        email.length > 100 ||
        Object.keys(input!).length !== 1
      )
        return (send(res, 400, { error: 'invalid' }), true)
      const exists = Object.values(USERS).some((u) => u.email === email)
      // Hole: a missing account answers differently from an existing one.
      if (!safe && !exists) return (send(res, 404, { error: 'no account with that email' }), true)
      return (send(res, 202, { status: 'if the account exists, a mail is on its way' }), true)
    }
    if (method === 'GET' && path === '/users/lookup') {
      const handle = url.searchParams.get('handle')
      if (!handle || handle.length > 40) return (send(res, 400, { error: 'bad handle' }), true)
      // Hole: a validator with nested quantifiers, exponential on a long run followed by a bad character.
      if (!(safe ? HANDLE_SAFE : HANDLE_CATASTROPHIC).test(handle))
        return (send(res, 400, { error: 'bad handle' }), true)
      return (send(res, 200, { handle, valid: true }), true)
    }
    const guarded = ['/admin/users', '/profile', '/notes'].includes(path) || path.startsWith('/notes/')
    if (!guarded) return false
    if (!user) return (send(res, 401, { error: 'unauthorized' }), true)
    if (method === 'GET' && path === '/admin/users') {
      // Hole: any signed-in user may list the users; the twin checks the role.
      if (safe && USERS[user]!.role !== 'admin') return (send(res, 403, { error: 'admins only' }), true)
      return (send(res, 200, { users: Object.keys(USERS) }), true)
    }
    const profile = profiles.get(user)!
    if (method === 'GET' && path === '/profile') return (send(res, 200, profile), true)
    if (method === 'PATCH' && path === '/profile') {
      if (!input || (input.name !== undefined && !text(input.name)))
        return (send(res, 400, { error: 'invalid' }), true)
      // Hole: every field of the body is merged into the profile, `role` included.
      if (safe) {
        if (input.name !== undefined) profile.name = input.name as string
      } else Object.assign(profile, input)
      return (send(res, 200, profile), true)
    }
    if (method === 'POST' && path === '/notes') {
      if (!input || !text(input.text) || Object.keys(input).length !== 1)
        return (send(res, 400, { error: 'invalid' }), true)
      const id = String(notes.size + 1)
      notes.set(id, { owner: user, text: input.text as string })
      return (send(res, 201, { id }), true)
    }
    const noteId = /^\/notes\/([^/]+)$/.exec(path)?.[1]
    const note = noteId === undefined ? undefined : notes.get(decodeURIComponent(noteId))
    if (method === 'GET' && noteId !== undefined) {
      if (!note || note.owner !== user) return (send(res, 404, { error: 'no such note' }), true)
      return (send(res, 200, { id: noteId, text: note.text }), true)
    }
    if (method === 'PUT' && noteId !== undefined) {
      if (!input || !text(input.text) || Object.keys(input).length !== 1)
        return (send(res, 400, { error: 'invalid' }), true)
      if (!note) return (send(res, 404, { error: 'no such note' }), true)
      // Hole: the change is saved before the owner is checked; the 403 comes too late.
      if (!safe) note.text = input.text as string
      if (note.owner !== user) return (send(res, 403, { error: 'not yours' }), true)
      note.text = input.text as string
      return (send(res, 200, { id: noteId, text: note.text }), true)
    }
    send(res, 404, { error: 'not found' })
    return true
  }
}

/** The bed's second service: a job queue whose worker dies on an unbalanced quote (the twin refuses it). */
export const BED_JOBS_REQUEST = {
  name: 'submitJob',
  service: 'jobs',
  method: 'POST',
  path: '/jobs',
  auth: false,
  json: { payload: 'resize' },
  schema: {
    type: 'object',
    required: ['payload'],
    properties: { payload: { type: 'string', minLength: 1, maxLength: 200 } },
    additionalProperties: false,
  },
}

/** Starts the jobs service; `die` is how the hole ends it (every connection dropped, nothing listening). */
export async function startJobs(safe: boolean): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(value))
      }
      if (req.method === 'GET' && req.url === '/') return send(200, { service: 'jobs' })
      if (req.method !== 'POST' || req.url !== '/jobs') return send(404, { error: 'not found' })
      if (!/^application\/json/.test(req.headers['content-type'] ?? ''))
        return send(415, { error: 'json only' })
      let input: unknown
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        return send(400, { error: 'invalid' })
      }
      const payload = (input as { payload?: unknown } | null)?.payload
      if (
        typeof payload !== 'string' ||
        payload.length < 1 ||
        payload.length > 200 ||
        Object.keys(input as object).length !== 1
      )
        return send(400, { error: 'invalid' })
      if (safe && !/^[\w .-]+$/.test(payload)) return send(400, { error: 'bad payload' })
      // Hole: the worker pastes the payload into a query; an unbalanced quote throws where nothing catches
      // it, and the process is gone: every connection dropped, nothing listening any more.
      if ((payload.match(/'/g)?.length ?? 0) % 2) {
        server.close()
        server.closeAllConnections()
        return
      }
      send(202, { queued: true })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections()
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
