/** `broker`: capture and publish on the sandboxes' message brokers (engine/clients/broker/), bound to their addresses. */
import { BrokerClient } from './broker/client.js'
import { defineClient } from './client.js'

export default defineClient({
  open: (ctx) => new BrokerClient(ctx),
  close: (client) => client.close(),
})
