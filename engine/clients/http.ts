/** `http`: the run's HTTP client (keep-alive pools, redacted evidence, curl lines), bound to the sandboxes. */
import { HttpClient } from '../http/client.js'
import { defineClient } from './client.js'

export default defineClient({
  open: (ctx) =>
    new HttpClient({
      redactor: ctx.redactor,
      allow: (url) => ctx.addresses.check(url),
      ...(ctx.requestIdHeader ? { requestIdHeader: ctx.requestIdHeader } : {}),
    }),
  close: (client) => client.close(),
})
