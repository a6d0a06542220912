/**
 * A KubeClient over a fixed set of objects, for unit tests of logic that only reads (port-forward target
 * selection, readiness, gc decisions). Writes are recorded. Port-forwards go wherever the test says.
 */
import type { Duplex } from 'node:stream'
import {
  KubeApiError,
  type KubeClient,
  type KubeObject,
  type KubeRef,
  type PodTunnel,
} from '../../../engine/kubernetes/client.js'

export class MemoryKubeClient implements KubeClient {
  readonly server = 'memory://'
  readonly context = 'memory'
  readonly deleted: Array<{ ref: KubeRef; propagation?: string }> = []

  constructor(
    public objects: KubeObject[],
    private readonly forward?: (
      namespace: string,
      pod: string,
      port: number,
      socket: Duplex,
    ) => Promise<PodTunnel>,
  ) {}

  async create<T extends KubeObject>(object: T): Promise<T> {
    if (this.find(object.apiVersion, object.kind, object.metadata.name, object.metadata.namespace)) {
      throw new KubeApiError(`${object.kind} ${object.metadata.name} already exists`, 409, 'AlreadyExists')
    }
    this.objects.push(structuredClone(object))
    return object
  }

  async get<T extends KubeObject = KubeObject>(ref: KubeRef): Promise<T | undefined> {
    return this.find(ref.apiVersion, ref.kind, ref.name, ref.namespace) as T | undefined
  }

  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string } = {},
  ): Promise<T[]> {
    const wanted = (options.labelSelector ?? '').split(',').filter(Boolean)
    return this.objects.filter(
      (o) =>
        o.apiVersion === apiVersion &&
        o.kind === kind &&
        (!options.namespace || o.metadata.namespace === options.namespace) &&
        wanted.every((term) => {
          const [key, value] = term.split('=')
          const labels = o.metadata.labels ?? {}
          return value === undefined ? key! in labels : labels[key!] === value
        }),
    ) as T[]
  }

  async delete(ref: KubeRef, propagation?: 'Foreground' | 'Background' | 'Orphan'): Promise<boolean> {
    const found = this.find(ref.apiVersion, ref.kind, ref.name, ref.namespace)
    this.deleted.push({ ref, propagation })
    this.objects = this.objects.filter((o) => o !== found)
    return Boolean(found)
  }

  async podLog(): Promise<string> {
    return ''
  }

  portForward(namespace: string, pod: string, port: number, socket: Duplex): Promise<PodTunnel> {
    if (!this.forward) throw new KubeApiError('no port-forward in this test', 0)
    return this.forward(namespace, pod, port, socket)
  }

  private find(apiVersion: string, kind: string, name: string, namespace?: string): KubeObject | undefined {
    return this.objects.find(
      (o) =>
        o.apiVersion === apiVersion &&
        o.kind === kind &&
        o.metadata.name === name &&
        (o.metadata.namespace ?? '') === (namespace ?? ''),
    )
  }
}

export function readyPod(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  ready = true,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'app', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }
}
