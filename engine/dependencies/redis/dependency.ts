/**
 * `redis`: a Redis server (Streams, and anything else services keep there) per sandbox, `redis-server` on a
 * free loopback port without persistence; or a given server (`url: redis://…`), where each sandbox gets a
 * database number of its own (`databases`, candidate first), checked empty before the run and flushed
 * after it — the URL services get carries the number, so they need no change. A reset flushes the side's
 * databases (its server's, or its number on a shared one); connections stay.
 */
import { ConfigError, InfrastructureError } from '../../errors.js'
import { defineDependency } from '../../api/dependency.js'
import { parseDuration } from '../../../plans/duration.js'
import { commonProperties, once, sharedUrl, type CommonOptions } from '../parts.js'
import { startServer } from '../server.js'

export interface RedisOptions extends CommonOptions {
  kind: 'redis'
  /** On a shared server: the database numbers of the candidate and the baseline. @default [1, 2] */
  databases?: [number, number]
}

export default defineDependency<RedisOptions>({
  meta: {
    description: 'A Redis server (Streams), one per sandbox',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        ...commonProperties('redis', ['redis']),
        databases: {
          type: 'array',
          items: { type: 'integer', minimum: 0, maximum: 15 },
          minItems: 2,
          maxItems: 2,
          description:
            'On a shared server: the candidate’s and the baseline’s database numbers. @default [1, 2]',
        },
      },
    },
  },
  async start(options, ctx) {
    if (options.url) {
      const url = sharedUrl(options, ctx, 6379)
      const [first, second] = options.databases ?? [1, 2]
      if (first === second) {
        throw new ConfigError(
          `${ctx.where(['databases'])}dependencies.${ctx.name}.databases: the candidate and the baseline need two different databases`,
        )
      }
      const db = ctx.sandbox === 'baseline' ? second : first
      url.pathname = `/${db}`
      const { Redis } = await import('ioredis')
      const admin = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 1 })
      try {
        await admin.connect()
        const keys = await admin.dbsize()
        if (keys > 0) {
          throw new InfrastructureError(
            `${ctx.sandbox} sandbox, dependency ${ctx.name} (redis): database ${db} of ${url.host} holds ${keys} keys; it must be empty (another run may be using it; choose others with \`databases:\`)`,
            [],
            { code: 'VIGIL_DEPENDENCY_START' },
          )
        }
      } catch (error) {
        admin.disconnect()
        if (error instanceof InfrastructureError) throw error
        throw new InfrastructureError(
          `${ctx.sandbox} sandbox, dependency ${ctx.name} (redis): cannot reach ${url.host}: ${(error as Error).message}`,
          [],
          { code: 'VIGIL_DEPENDENCY_START', cause: error },
        )
      }
      return {
        endpoint: {
          name: ctx.name,
          kind: 'redis',
          url: url.toString(),
          host: url.hostname,
          port: Number(url.port),
          prefix: '',
          isolation: `database ${db} of the shared server, flushed when the run ends`,
        },
        logs: () => [],
        stop: once(async () => {
          try {
            await admin.flushdb()
          } finally {
            admin.disconnect()
          }
        }),
        inputs: [],
        async reset() {
          const keys = await admin.dbsize()
          if (keys === 0) return { done: `no key in database ${db}` }
          await admin.flushdb()
          return { done: `database ${db} flushed (${keys} keys)` }
        },
      }
    }
    const server = await startServer(ctx, {
      binary: options.binary ?? 'redis-server',
      debianPackage: 'redis-server',
      kind: 'redis',
      argv: (port, dir) => [
        'redis-server',
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
      ],
      timeoutMs: parseDuration(options.timeout ?? '30s'),
    })
    return {
      endpoint: {
        name: ctx.name,
        kind: 'redis',
        url: `redis://${server.host}:${server.port}`,
        host: server.host,
        port: server.port,
        prefix: '',
        isolation: `a redis-server of its own (pid ${server.pid}, port ${server.port})`,
      },
      logs: server.logs,
      stop: server.stop,
      died: server.died,
      inputs: [],
      async reset() {
        const { Redis } = await import('ioredis')
        const admin = new Redis(server.port, server.host, { lazyConnect: true, maxRetriesPerRequest: 1 })
        try {
          await admin.connect()
          // `db0:keys=2,expires=0,…` per database that holds keys.
          const keyspace = await admin.info('keyspace')
          const keys = [...keyspace.matchAll(/keys=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0)
          if (keys === 0) return { done: 'no key to flush' }
          await admin.flushall()
          return { done: `every database flushed (${keys} keys)` }
        } finally {
          admin.disconnect()
        }
      },
    }
  },
})
