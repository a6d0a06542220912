/**
 * `mqtt`: an MQTT broker per sandbox — the embedded one (aedes, in vigil's process: the default, nothing to
 * install), or `server: mosquitto` (the Debian package's binary on a free loopback port, no persistence);
 * or a given broker (`url: mqtt://…`), where each sandbox's topics live under a prefix of its own
 * (`vigil/<run>/<side>/`), which services read as `{{deps.NAME.prefix}}`. A reset clears the retained
 * messages: the embedded broker's in its store, with the messages queued for its disconnected persistent
 * sessions (embedded.ts); another broker's through a client (retained.ts).
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { defineDependency } from '../../api/dependency.js'
import { parseDuration } from '../../../plans/duration.js'
import { commonProperties, sandboxScope, sharedUrl, type CommonOptions } from '../parts.js'
import { startServer } from '../server.js'
import { startEmbedded } from './embedded.js'
import { clearRetained } from './retained.js'

export interface MqttOptions extends CommonOptions {
  kind: 'mqtt'
  /** Which broker runs per sandbox. @default embedded */
  server?: 'embedded' | 'mosquitto'
}

export default defineDependency<MqttOptions>({
  meta: {
    description: 'An MQTT broker per sandbox: embedded (aedes) or mosquitto',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        ...commonProperties('mqtt', ['mqtt']),
        server: {
          enum: ['embedded', 'mosquitto'],
          description:
            'embedded: aedes inside vigil (nothing to install); mosquitto: the binary. @default embedded',
        },
      },
    },
  },
  async start(options, ctx) {
    const base = { name: ctx.name, kind: 'mqtt' }
    if (options.url) {
      const url = sharedUrl(options, ctx, 1883)
      const prefix = `${sandboxScope(ctx, '/')}/`
      return {
        endpoint: {
          ...base,
          url: url.toString().replace(/\/$/, ''),
          host: url.hostname,
          port: Number(url.port),
          prefix,
          isolation: `topics under the prefix ${prefix} on the shared broker`,
        },
        logs: () => [],
        stop: async () => undefined,
        inputs: [],
        reset: () => clearRetained(url.toString().replace(/\/$/, ''), prefix),
      }
    }
    if ((options.server ?? 'embedded') === 'embedded') {
      const broker = await startEmbedded(ctx.redactor)
      return {
        endpoint: {
          ...base,
          url: `mqtt://${broker.host}:${broker.port}`,
          host: broker.host,
          port: broker.port,
          prefix: '',
          isolation: `an embedded broker (aedes) of its own on port ${broker.port}`,
        },
        logs: broker.logs,
        stop: broker.stop,
        inputs: [],
        reset: broker.reset,
      }
    }
    const server = await startServer(ctx, {
      binary: options.binary ?? 'mosquitto',
      debianPackage: 'mosquitto',
      kind: 'mqtt',
      argv: (port, dir) => {
        const conf = path.join(dir, 'mosquitto.conf')
        writeFileSync(
          conf,
          `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stdout\n`,
        )
        return ['mosquitto', '-c', conf]
      },
      timeoutMs: parseDuration(options.timeout ?? '30s'),
    })
    return {
      endpoint: {
        ...base,
        url: `mqtt://${server.host}:${server.port}`,
        host: server.host,
        port: server.port,
        prefix: '',
        isolation: `a mosquitto of its own (pid ${server.pid}, port ${server.port})`,
      },
      logs: server.logs,
      stop: server.stop,
      died: server.died,
      inputs: [],
      reset: () => clearRetained(`mqtt://${server.host}:${server.port}`, ''),
    }
  },
})
