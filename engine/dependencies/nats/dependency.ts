/**
 * `nats`: a NATS server (core and JetStream) per sandbox, `nats-server` on a free loopback port with its
 * own JetStream folder; or a given server (`url: nats://…`), where each sandbox's subjects live under a
 * prefix of its own (`vigil_<run>_<side>.`), which services read as `{{deps.NAME.prefix}}`. A reset purges the
 * side's JetStream streams.
 */
import { defineDependency, type DependencyReset } from '../../api/dependency.js'
import { parseDuration } from '../../../plans/duration.js'
import { commonProperties, sandboxScope, sharedUrl, type CommonOptions } from '../parts.js'
import { startServer } from '../server.js'

export interface NatsOptions extends CommonOptions {
  kind: 'nats'
  /** Enable JetStream on the sandbox's server. @default true */
  jetstream?: boolean
}

export default defineDependency<NatsOptions>({
  meta: {
    description: 'A NATS server (core and JetStream), one per sandbox',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        ...commonProperties('nats', ['nats']),
        jetstream: { type: 'boolean', description: 'Enable JetStream. @default true' },
      },
    },
  },
  async start(options, ctx) {
    const jetstream = options.jetstream ?? true
    if (options.url) {
      const url = sharedUrl(options, ctx, 4222)
      const prefix = `${sandboxScope(ctx, '_')}.`
      return {
        endpoint: {
          name: ctx.name,
          kind: 'nats',
          url: url.toString().replace(/\/$/, ''),
          host: url.hostname,
          port: Number(url.port),
          prefix,
          isolation: `subjects under the prefix ${prefix} on the shared server`,
          settings: { jetstream },
        },
        logs: () => [],
        stop: async () => undefined,
        inputs: [],
        reset: () => purgeStreams(url.toString(), prefix, jetstream),
      }
    }
    const server = await startServer(ctx, {
      binary: options.binary ?? 'nats-server',
      debianPackage: 'nats-server',
      kind: 'nats',
      argv: (port, dir) => [
        'nats-server',
        '-a',
        '127.0.0.1',
        '-p',
        String(port),
        ...(jetstream ? ['-js', '-sd', dir] : []),
      ],
      timeoutMs: parseDuration(options.timeout ?? '30s'),
    })
    return {
      endpoint: {
        name: ctx.name,
        kind: 'nats',
        url: `nats://${server.host}:${server.port}`,
        host: server.host,
        port: server.port,
        prefix: '',
        isolation: `a nats-server of its own (pid ${server.pid}, port ${server.port})`,
        settings: { jetstream },
      },
      logs: server.logs,
      stop: server.stop,
      died: server.died,
      inputs: [],
      reset: () => purgeStreams(`nats://${server.host}:${server.port}`, '', jetstream),
    }
  },
})

/**
 * Purges the JetStream streams of one sandbox (key-value buckets and object stores are streams too): every
 * stream on its own server, or those whose subjects all lie under its prefix on a shared one. Streams,
 * consumers and connections stay; core NATS keeps no messages.
 */
async function purgeStreams(url: string, prefix: string, jetstream: boolean): Promise<DependencyReset> {
  if (!jetstream) return { done: 'nothing to empty: core NATS keeps no messages' }
  const { connect } = await import('nats')
  const nc = await connect({ servers: url, name: 'vigil-reset', reconnect: false, timeout: 5_000 })
  try {
    const jsm = await nc.jetstreamManager()
    const purged: string[] = []
    for await (const stream of jsm.streams.list()) {
      const subjects = stream.config.subjects ?? []
      if (prefix && !(subjects.length && subjects.every((s) => s.startsWith(prefix)))) continue
      const { purged: count } = await jsm.streams.purge(stream.config.name)
      if (count > 0) purged.push(`${stream.config.name} (${count})`)
    }
    return {
      done: purged.length
        ? `JetStream streams purged: ${purged.join(', ')}`
        : 'no JetStream stream held messages',
    }
  } finally {
    await nc.close().catch(() => undefined)
  }
}
