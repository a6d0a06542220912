/**
 * A simulated kubelet for the real-apiserver tier, in the spirit of kwok: there is no kubelet (nor
 * scheduler) in the tier, so pods created by the real controllers never run. This loop writes what a
 * kubelet would write to their status — Running and Ready with a pod IP, or stuck pulling an image with
 * the matching Warning event — through the real status subresource. The ReplicaSet and Deployment
 * controllers then compute the Deployment's rollout status themselves.
 */
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node'

export interface SimulatedKubeletOptions {
  /** Only pods of namespaces starting with this. */
  namespacePrefix: string
  /** Which pods this kubelet runs. @default app.kubernetes.io/managed-by=vigil */
  labelSelector?: string
  /** Pods that must never become ready (by their `vigil.dev/service` label) get an image pull error. */
  failServices?: readonly string[]
  /**
   * How a Job's pod ends (pods with a `job-name` label): its container's exit code and termination
   * message. Without it, Job pods are made Running like any other.
   */
  jobPod?(pod: V1Pod): Promise<{ exitCode: number; message?: string }>
  /** @default 150 */
  intervalMs?: number
}

export interface SimulatedKubelet {
  /** Pods this kubelet has written a status for, by `namespace/name`. */
  readonly handled: ReadonlySet<string>
  stop(): Promise<void>
}

export function startSimulatedKubelet(core: CoreV1Api, options: SimulatedKubeletOptions): SimulatedKubelet {
  const handled = new Set<string>()
  let stopped = false
  let ip = 10
  const loop = (async () => {
    while (!stopped) {
      try {
        const pods = await core.listPodForAllNamespaces({
          labelSelector: options.labelSelector ?? 'app.kubernetes.io/managed-by=vigil',
        })
        for (const pod of pods.items) {
          const ns = pod.metadata?.namespace ?? ''
          const key = `${ns}/${pod.metadata?.name}`
          if (!ns.startsWith(options.namespacePrefix) || handled.has(key) || pod.metadata?.deletionTimestamp)
            continue
          const service = pod.metadata?.labels?.['vigil.dev/service'] ?? ''
          const fail = options.failServices?.includes(service) ?? false
          if (options.jobPod && pod.metadata?.labels?.['job-name']) {
            await finishJobPod(core, pod, await options.jobPod(pod))
          } else await writeStatus(core, pod, fail, `10.244.0.${ip++ % 250}`)
          handled.add(key)
        }
      } catch {
        // A namespace deleted under our feet: the next round looks again.
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 150))
    }
  })()
  return {
    handled,
    stop: async () => {
      stopped = true
      await loop
    },
  }
}

async function writeStatus(core: CoreV1Api, pod: V1Pod, fail: boolean, podIP: string): Promise<void> {
  const now = new Date()
  const containers = pod.spec?.containers ?? []
  const namespace = pod.metadata!.namespace!
  const name = pod.metadata!.name!
  pod.status = {
    phase: fail ? 'Pending' : 'Running',
    podIP,
    hostIP: '127.0.0.1',
    startTime: now,
    conditions: [
      { type: 'Initialized', status: 'True', lastTransitionTime: now },
      {
        type: 'Ready',
        status: fail ? 'False' : 'True',
        lastTransitionTime: now,
        ...(fail ? { reason: 'ContainersNotReady', message: 'containers with unready status' } : {}),
      },
      { type: 'ContainersReady', status: fail ? 'False' : 'True', lastTransitionTime: now },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
    ],
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: !fail,
      restartCount: 0,
      started: !fail,
      state: fail
        ? { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` } }
        : { running: { startedAt: now } },
    })),
  }
  await core.replaceNamespacedPodStatus({ namespace, name, body: pod })
  if (fail) {
    await core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${name}.simulated-kubelet`, namespace },
        involvedObject: { kind: 'Pod', name, namespace, apiVersion: 'v1', uid: pod.metadata?.uid },
        reason: 'Failed',
        message: `Failed to pull image "${containers[0]?.image}": simulated kubelet: image not found`,
        type: 'Warning',
        source: { component: 'kubelet (simulated)' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    })
  }
}

/** A Job's pod that ran to its end: Succeeded with exit 0, else Failed; the Job controller does the rest. */
async function finishJobPod(
  core: CoreV1Api,
  pod: V1Pod,
  end: { exitCode: number; message?: string },
): Promise<void> {
  const now = new Date()
  pod.status = {
    phase: end.exitCode === 0 ? 'Succeeded' : 'Failed',
    podIP: '10.244.1.1',
    startTime: now,
    conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now }],
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: {
        terminated: {
          exitCode: end.exitCode,
          reason: end.exitCode === 0 ? 'Completed' : 'Error',
          startedAt: now,
          finishedAt: now,
          ...(end.message !== undefined ? { message: end.message } : {}),
        },
      },
    })),
  }
  await core.replaceNamespacedPodStatus({
    namespace: pod.metadata!.namespace!,
    name: pod.metadata!.name!,
    body: pod,
  })
}
