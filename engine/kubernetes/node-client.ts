/**
 * The KubeClient over @kubernetes/client-node 1.4 (pinned ~1.4: 2.x needs a newer Node than 20).
 * Generic objects go through KubernetesObjectApi (discovery finds the resource of any kind, custom ones
 * included); pod logs through CoreV1Api; port-forward through the client's PortForward (WebSocket).
 */
import { PassThrough, type Duplex } from 'node:stream'
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PortForward,
  type KubernetesObject,
} from '@kubernetes/client-node'
import { KubernetesConfigError } from './errors.js'
import {
  KubeApiError,
  describeRef,
  isNotFound,
  type KubeClient,
  type KubeConnectOptions,
  type KubeObject,
  type KubeRef,
  type PodTunnel,
  type Propagation,
} from './client.js'

/** Loads a kubeconfig the way kubectl does and returns a client for it. */
export function connect(options: KubeConnectOptions = {}): NodeKubeClient {
  const kc = new KubeConfig()
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig)
    else kc.loadFromDefault()
  } catch (error) {
    throw new KubernetesConfigError(
      `${options.kubeconfig ?? 'kubeconfig'}: cannot be loaded: ${(error as Error).message}`,
      { cause: error },
    )
  }
  if (options.context) {
    if (!kc.getContexts().some((c) => c.name === options.context)) {
      const known = kc.getContexts().map((c) => c.name)
      throw new KubernetesConfigError(
        `${options.kubeconfig ?? 'kubeconfig'}: no context ${JSON.stringify(options.context)}; it has ${known.join(', ') || 'none'}`,
      )
    }
    kc.setCurrentContext(options.context)
  }
  if (!kc.getCurrentCluster()) {
    throw new KubernetesConfigError(
      `${options.kubeconfig ?? 'kubeconfig'}: no cluster for the current context; set \`kubeconfig\`/\`context\`, or run inside a cluster`,
    )
  }
  return new NodeKubeClient(kc)
}

export class NodeKubeClient implements KubeClient {
  readonly server: string
  readonly context: string
  private readonly objects: KubernetesObjectApi
  private readonly core: CoreV1Api

  constructor(readonly config: KubeConfig) {
    this.server = config.getCurrentCluster()?.server ?? ''
    this.context = config.getCurrentContext()
    this.objects = KubernetesObjectApi.makeApiClient(config)
    this.core = config.makeApiClient(CoreV1Api)
  }

  async create<T extends KubeObject>(object: T): Promise<T> {
    return plain(await this.call(`create ${describeRef(object)}`, () => this.objects.create(asK8s(object))))
  }

  async get<T extends KubeObject = KubeObject>(ref: KubeRef): Promise<T | undefined> {
    const header = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
    }
    try {
      return plain(await this.call(`read ${describeRef(ref)}`, () => this.objects.read(header)))
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<T[]> {
    const where = options.namespace ? ` in ${options.namespace}` : ''
    const list = await this.call(`list ${kind}${where}`, () =>
      this.objects.list(
        apiVersion,
        kind,
        options.namespace,
        undefined,
        undefined,
        undefined,
        options.fieldSelector,
        options.labelSelector,
      ),
    )
    // A list's items carry no apiVersion/kind of their own.
    return list.items.map((item) => plain<T>({ ...item, apiVersion, kind }))
  }

  async delete(ref: KubeRef, propagation: Propagation = 'Background'): Promise<boolean> {
    const spec = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
    }
    try {
      await this.call(`delete ${describeRef(ref)}`, () =>
        this.objects.delete(spec, undefined, undefined, undefined, undefined, propagation),
      )
      return true
    } catch (error) {
      if (isNotFound(error)) return false
      throw error
    }
  }

  async podLog(
    namespace: string,
    pod: string,
    options: { container?: string; tailLines?: number } = {},
  ): Promise<string> {
    return this.call(`log of Pod ${namespace}/${pod}`, () =>
      this.core.readNamespacedPodLog({ namespace, name: pod, ...options }),
    )
  }

  async portForward(namespace: string, pod: string, port: number, socket: Duplex): Promise<PodTunnel> {
    const errors = new PassThrough()
    let message = ''
    errors.on('data', (chunk: Buffer) => {
      message += chunk.toString('utf8')
    })
    const forward = new PortForward(this.config, true)
    const ws = await this.call(`port-forward to Pod ${namespace}/${pod}:${port}`, async () => {
      const opened = await forward.portForward(namespace, pod, [port], socket, errors, socket)
      return typeof opened === 'function' ? opened() : opened
    })
    if (!ws) throw new KubeApiError(`port-forward to Pod ${namespace}/${pod}:${port}: no connection`, 0)
    // The tunnel ends with the WebSocket: the client sees the connection close, like kubectl port-forward.
    ws.on('close', () => {
      if (message.trim())
        socket.destroy(new Error(`port-forward ${namespace}/${pod}:${port}: ${message.trim()}`))
      else socket.end()
    })
    socket.on('error', () => ws.close())
    socket.on('close', () => ws.close())
    return { close: () => ws.close() }
  }

  /** Runs an API call and turns the client's exceptions into KubeApiErrors that say what was attempted. */
  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw toKubeError(what, this.server, error)
    }
  }
}

function toKubeError(what: string, server: string, error: unknown): KubeApiError {
  if (error instanceof KubeApiError) return error
  if (error instanceof ApiException) {
    const body = parseBody(error.body)
    const detail = body?.message ?? (typeof error.body === 'string' ? error.body.slice(0, 300) : '')
    return new KubeApiError(
      `${what}: ${error.code} ${body?.reason ?? ''}${detail ? ` ${detail}` : ''}`.replace(/\s+/g, ' ').trim(),
      error.code,
      body?.reason,
      { cause: error },
    )
  }
  const message = (error as Error)?.message ?? String(error)
  return new KubeApiError(`${what}: ${server}: ${message}`, 0, undefined, { cause: error })
}

function parseBody(body: unknown): { message?: string; reason?: string } | undefined {
  if (body && typeof body === 'object') return body as { message?: string; reason?: string }
  if (typeof body !== 'string') return undefined
  try {
    return JSON.parse(body) as { message?: string; reason?: string }
  } catch {
    return undefined
  }
}

function asK8s(object: KubeObject): KubernetesObject {
  return object as unknown as KubernetesObject
}

/** The client returns model class instances (dates as Date): vigil works on plain JSON-shaped data. */
function plain<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T
}
