/**
 * `rabbitmq`: RabbitMQ (AMQP 0-9-1). It takes seconds to boot, so a run starts one private server — with its
 * own epmd on a private port, Erlang cookie (HOME), data and log folders, all removed afterwards — and
 * gives each sandbox a virtual host of its own on it (`vigil-candidate`, `vigil-baseline`): exchanges,
 * queues and bindings of one are invisible to the other, and the URL services get names it. With a given
 * server (`url: amqp://…`) the sandboxes use the two virtual hosts `vhosts` names, which must exist.
 * Channels are routing keys on `exchange` (default `amq.topic`, which every virtual host has). A reset purges
 * the queues of the side's virtual host.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { ConfigError, InfrastructureError } from '../../errors.js'
import { defineDependency, type DependencyReset, type DependencyStartContext } from '../../api/dependency.js'
import { parseDuration } from '../../../plans/duration.js'
import { commonProperties, sandboxScope, sharedUrl, type CommonOptions } from '../parts.js'
import { findBinary, missingBinary, startServer, type RunningServer } from '../server.js'

const run = promisify(execFile)

export interface RabbitmqOptions extends CommonOptions {
  kind: 'rabbitmq'
  /** The exchange services publish to; channels are its routing keys. @default amq.topic */
  exchange?: string
  /** On a shared server: the candidate's and the baseline's virtual hosts (they must exist). */
  vhosts?: [string, string]
}

/** The Debian package's scripts that run the server as the calling user (the ones in sbin switch to `rabbitmq`). */
const LIB = '/usr/lib/rabbitmq/bin'

interface PrivateServer {
  server: RunningServer
  node: string
  env: Record<string, string>
  ctl: string
}

export default defineDependency<RabbitmqOptions>({
  meta: {
    description: 'A RabbitMQ virtual host per sandbox, on one private server per run',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        ...commonProperties('rabbitmq', ['amqp']),
        exchange: {
          type: 'string',
          minLength: 1,
          description: 'Exchange of the channels. @default amq.topic',
        },
        vhosts: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          minItems: 2,
          maxItems: 2,
          description:
            'On a shared server: the candidate’s and the baseline’s virtual hosts, which must exist.',
        },
      },
    },
  },
  async start(options, ctx) {
    const exchange = options.exchange ?? 'amq.topic'
    if (options.url) {
      const url = sharedUrl(options, ctx, 5672)
      if (!options.vhosts || options.vhosts[0] === options.vhosts[1]) {
        throw new ConfigError(
          `${ctx.where(['url'])}dependencies.${ctx.name}: a shared RabbitMQ needs \`vhosts: [candidate, baseline]\`, two virtual hosts that exist there, one per sandbox`,
        )
      }
      const vhost = ctx.sandbox === 'baseline' ? options.vhosts[1] : options.vhosts[0]
      url.pathname = `/${encodeURIComponent(vhost)}`
      return {
        endpoint: {
          name: ctx.name,
          kind: 'rabbitmq',
          url: url.toString(),
          host: url.hostname,
          port: Number(url.port),
          prefix: '',
          isolation: `the virtual host ${vhost} of the shared server`,
          settings: { exchange },
        },
        logs: () => [],
        stop: async () => undefined,
        // Without the server's rabbitmqctl (or its management plugin) AMQP cannot list the queues to purge.
        inputs: [],
        reset: async () => ({
          done: `not emptied: the queues of a server vigil did not start cannot be listed over AMQP (virtual host ${vhost})`,
        }),
      }
    }
    const shared = await ctx.shared(`rabbitmq:${options.binary ?? ''}`, () => startPrivate(options, ctx))
    const vhost = `vigil-${ctx.sandbox}`
    try {
      await run(shared.ctl, ['-n', shared.node, 'add_vhost', vhost], { env: shared.env, timeout: 60_000 })
      await run(shared.ctl, ['-n', shared.node, 'set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*'], {
        env: shared.env,
        timeout: 60_000,
      })
    } catch (error) {
      throw new InfrastructureError(
        `${ctx.sandbox} sandbox, dependency ${ctx.name} (rabbitmq): could not create the virtual host ${vhost}: ${(error as Error).message}`,
        shared.server.logs().slice(-50),
        { code: 'VIGIL_DEPENDENCY_START', cause: error },
      )
    }
    const { host, port } = shared.server
    return {
      endpoint: {
        name: ctx.name,
        kind: 'rabbitmq',
        url: `amqp://guest:guest@${host}:${port}/${vhost}`,
        host,
        port,
        prefix: '',
        isolation: `the virtual host ${vhost} of the run's private RabbitMQ (port ${port})`,
        settings: { exchange },
      },
      logs: shared.server.logs,
      // The server is the run's: the session stops it after both sandboxes.
      stop: async () => undefined,
      died: shared.server.died,
      inputs: [],
      reset: (signal) => purgeQueues(shared, vhost, `amqp://guest:guest@${host}:${port}/${vhost}`, signal),
    }
  },
})

/**
 * Purges the queues of a virtual host that hold messages: listed by rabbitmqctl (AMQP cannot list them),
 * purged over AMQP. Exchanges, queues, bindings and connections stay. An exclusive queue belongs to a live
 * connection (a consumer's own queue) and is left to it.
 */
async function purgeQueues(
  shared: PrivateServer,
  vhost: string,
  url: string,
  signal: AbortSignal,
): Promise<DependencyReset> {
  const listed = await run(
    shared.ctl,
    [
      '-n',
      shared.node,
      'list_queues',
      '-p',
      vhost,
      '--quiet',
      '--no-table-headers',
      'name',
      'messages',
      'exclusive',
    ],
    { env: shared.env, timeout: 60_000, signal },
  )
  const queues = listed.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([name, messages, exclusive]) => name && Number(messages) > 0 && exclusive !== 'true')
    .map(([name]) => name!)
  if (queues.length === 0) return { done: `no queue of ${vhost} held messages` }
  const amqp = await import('amqplib')
  const connection = await amqp.connect(url, { timeout: 5_000 })
  connection.on('error', () => undefined)
  let purged = 0
  try {
    for (const queue of queues) {
      // A failed purge closes its channel: one channel per queue.
      const channel = await connection.createChannel()
      channel.on('error', () => undefined)
      try {
        purged += (await channel.purgeQueue(queue)).messageCount
      } catch {
        // Gone, or taken exclusively since the listing.
      } finally {
        await channel.close().catch(() => undefined)
      }
    }
  } finally {
    await connection.close().catch(() => undefined)
  }
  return { done: `${queues.length} queue(s) of ${vhost} purged (${purged} messages)` }
}

async function startPrivate(
  options: RabbitmqOptions,
  ctx: DependencyStartContext,
): Promise<{ value: PrivateServer; stop(): Promise<void> }> {
  const script =
    options.binary ??
    (existsSync(path.join(LIB, 'rabbitmq-server')) ? path.join(LIB, 'rabbitmq-server') : 'rabbitmq-server')
  const ctl =
    findBinary(path.join(path.dirname(findBinary(script) ?? script), 'rabbitmqctl')) ??
    findBinary('rabbitmqctl')
  if (!findBinary(script) || !ctl)
    throw missingBinary(ctx, {
      binary: 'rabbitmq-server',
      debianPackage: 'rabbitmq-server',
      kind: 'rabbitmq',
    })
  // Its own epmd on a private port: the node registers there, and stopping it leaves no daemon behind.
  const epmd = await startServer(ctx, {
    binary: 'epmd',
    debianPackage: 'erlang-base',
    kind: 'epmd',
    argv: (port) => ['epmd', '-port', String(port)],
  })
  const node = `${sandboxScope(ctx, '-').replace(/-(candidate|baseline)$/, '')}@localhost`
  let env: Record<string, string> = {}
  const serverEnv = (port: number, dir: string, dist: number): Record<string, string> => ({
    HOME: dir,
    ERL_EPMD_PORT: String(epmd.port),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(dist),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
    RABBITMQ_FEATURE_FLAGS_FILE: path.join(dir, 'feature_flags'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
    // Logs to stdout, which vigil captures like a service's.
    RABBITMQ_LOGS: '-',
  })
  let server: RunningServer
  try {
    server = await startServer(ctx, {
      binary: script,
      debianPackage: 'rabbitmq-server',
      kind: 'rabbitmq',
      extraPorts: 1,
      argv: (_port, dir) => {
        writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n')
        for (const sub of ['mnesia', 'log']) mkdirSync(path.join(dir, sub))
        return [script]
      },
      env: (port, dir, extra) => (env = serverEnv(port, dir, extra[0]!)),
      timeoutMs: parseDuration(options.timeout ?? '90s'),
    })
  } catch (error) {
    await epmd.stop()
    throw error
  }
  ctx.log(`rabbitmq: private server ${node} ready on 127.0.0.1:${server.port} (epmd on ${epmd.port})`)
  return {
    value: { server, node, env: { ...(process.env as Record<string, string>), ...env }, ctl },
    stop: async () => {
      await server.stop()
      await epmd.stop()
    },
  }
}
