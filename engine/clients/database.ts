/** `database`: SQL on the sandboxes' own databases (engine/clients/database/), bound to their addresses. */
import { DatabaseClient } from './database/client.js'
import { defineClient } from './client.js'

export default defineClient({
  open: (ctx) => new DatabaseClient(ctx),
  close: (client) => client.close(),
})
