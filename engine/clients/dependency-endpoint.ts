/** The address of a sandbox's dependency, as clients and checks see it (defined here, below engine/api/, for the clients). */

/** Where one dependency of a sandbox is reached, as services (`{{deps.NAME.url}}`) and checks see it. */
export interface DependencyEndpoint {
  /** The name the config gives it (`bus`). */
  name: string
  /** Its kind (`nats`, `redis`, `rabbitmq`, `mqtt`, …): how a client speaks to it. */
  kind: string
  /** Its URL for clients, e.g. `nats://127.0.0.1:41234`, `redis://127.0.0.1:6379/3`, `amqp://…/vigil-candidate`. */
  url: string
  host: string
  port: number
  /**
   * What a service prefixes its channel names with on a server shared between sandboxes (`{{deps.NAME.prefix}}`);
   * empty on a server of the sandbox's own. Clients of vigil prefix every channel with it.
   */
  prefix: string
  /** One sentence: how this sandbox's traffic is kept apart from the other's (for reports and `vigil sandbox`). */
  isolation: string
  /** Kind-specific settings a client needs (a RabbitMQ exchange, NATS JetStream). */
  settings?: Readonly<Record<string, unknown>>
}
