/**
 * The objects of one in-cluster run: a ConfigMap with the config the Jobs' vigil runs with (the `url`
 * provider pointed at the sandboxes' in-cluster URLs), a Secret with the secret values, and a Job per plan.
 */
import path from 'node:path'
import { stringify } from 'yaml'
import type { KubeObject } from '../../kubernetes/client.js'
import { MANAGED_BY, RUN_ID_LABEL, dnsLabel } from '../../kubernetes/labels.js'
import type { ResolvedJobOptions } from './options.js'

/** Where the ConfigMap is mounted in the Job's pod. */
export const RUN_DIR = '/vigil/run'
/** The pod log carries the verdict between these lines. */
export const VERDICT_BEGIN = '<<<vigil-verdict'
export const VERDICT_END = 'vigil-verdict>>>'
/** The kubelet keeps at most 4096 bytes of a termination message. */
export const TERMINATION_LIMIT = 4000
export const PLAN_LABEL = 'vigil.dev/plan'

export interface SideUrls {
  default: string
  services: Record<string, string>
  headers: Record<string, string>
}

export interface InnerConfigInput {
  /** Plan roots as the outer config lists them (relative to its folder). */
  plans: readonly string[]
  workdir: string
  concurrency: number
  checkTimeoutMs: number
  timeoutMs: number
  env: readonly string[]
  secretNames: readonly string[]
  redactHeaders: readonly string[]
  allowHosts: readonly string[]
  candidate: SideUrls
  baseline?: SideUrls
}

/** Environment variable a secret's value reaches the Job's vigil through. */
export function secretEnvName(name: string): string {
  return `VIGIL_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`
}

export function innerConfig(input: InnerConfigInput): string {
  const config: Record<string, unknown> = {
    plans: input.plans.map((root) =>
      path.posix.isAbsolute(root) ? root : path.posix.join(input.workdir, root),
    ),
    concurrency: input.concurrency,
    timeout: input.timeoutMs,
    checkTimeout: input.checkTimeoutMs,
    env: [...input.env],
    secrets: Object.fromEntries(input.secretNames.map((n) => [n, { env: secretEnvName(n) }])),
    redact: { headers: [...input.redactHeaders] },
    // Service URLs are cluster DNS names of the run's namespaces.
    allowHosts: [...new Set([...input.allowHosts, '*.svc', '*.svc.cluster.local'])],
    sandbox: {
      provider: 'url',
      default: input.candidate.default,
      services: input.candidate.services,
      headers: input.candidate.headers,
    },
  }
  if (input.baseline) {
    config.baseline = {
      default: input.baseline.default,
      services: input.baseline.services,
      headers: input.baseline.headers,
    }
  }
  return stringify(config, { sortMapEntries: true })
}

export interface RunObjectsInput {
  runId: string
  namespace: string
  options: ResolvedJobOptions
  config: string
  secrets: Readonly<Record<string, string>>
  /** Values of the allow-listed environment variables. */
  env: Readonly<Record<string, string>>
}

export function runObjectNames(runId: string): { configMap: string; secret: string } {
  return { configMap: dnsLabel(`vigil-run-${runId}`), secret: dnsLabel(`vigil-secrets-${runId}`) }
}

export function runLabels(runId: string): Record<string, string> {
  return { ...MANAGED_BY, [RUN_ID_LABEL]: runId }
}

export function configMapObject(input: RunObjectsInput): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: runObjectNames(input.runId).configMap,
      namespace: input.namespace,
      labels: runLabels(input.runId),
    },
    data: { 'vigil.config.yaml': input.config },
  }
}

export function secretObject(input: RunObjectsInput): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: runObjectNames(input.runId).secret,
      namespace: input.namespace,
      labels: runLabels(input.runId),
    },
    type: 'Opaque',
    stringData: Object.fromEntries(Object.entries(input.secrets).map(([k, v]) => [secretEnvName(k), v])),
  } as KubeObject
}

/** The shell wrapper: runs vigil, then puts the verdict where the executor reads it, keeping vigil's exit code. */
const SCRIPT = [
  'out="${VIGIL_VERDICT_FILE:-/tmp/vigil-verdict.json}"',
  'rm -f "$out"',
  '"$@" --reporter "json:$out" >&2',
  'code=$?',
  'if [ -s "$out" ]; then',
  // The kubelet mounts the termination-message file; outside a pod there is none to write.
  `  if [ -e /dev/termination-log ] && [ "$(wc -c < "$out")" -le ${TERMINATION_LIMIT} ]; then cp "$out" /dev/termination-log; fi`,
  `  echo '${VERDICT_BEGIN}'; cat "$out"; echo; echo '${VERDICT_END}'`,
  'fi',
  'exit $code',
].join('\n')

export interface JobInput extends RunObjectsInput {
  plan: string
  seed: number
  baseline: boolean
  deadlineSeconds: number
}

export function jobName(runId: string, plan: string): string {
  return dnsLabel(`vigil-${runId}-${plan}`)
}

export function jobObject(input: JobInput): KubeObject {
  const names = runObjectNames(input.runId)
  const labels = { ...runLabels(input.runId), [PLAN_LABEL]: dnsLabel(input.plan) }
  const o = input.options
  const args = [...o.command, 'run', '--config', `${RUN_DIR}/vigil.config.yaml`, '--plan', input.plan]
  args.push('--seed', String(input.seed))
  if (!input.baseline) args.push('--no-baseline')
  const env = [
    ...Object.keys(input.secrets)
      .sort()
      .map((name) => ({
        name: secretEnvName(name),
        valueFrom: { secretKeyRef: { name: names.secret, key: secretEnvName(name) } },
      })),
    ...Object.entries(input.env)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value })),
    { name: 'NO_COLOR', value: '1' },
  ]
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName(input.runId, input.plan), namespace: input.namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: input.deadlineSeconds,
      ttlSecondsAfterFinished: Math.ceil(o.ttlMs / 1000),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          ...(o.serviceAccount ? { serviceAccountName: o.serviceAccount } : {}),
          containers: [
            {
              name: 'vigil',
              image: o.image,
              imagePullPolicy: o.imagePullPolicy,
              workingDir: o.workdir,
              command: ['sh', '-c', SCRIPT, 'vigil-job', ...args],
              env,
              terminationMessagePolicy: 'File',
              volumeMounts: [{ name: 'run', mountPath: RUN_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'run', configMap: { name: names.configMap } }],
        },
      },
    },
  }
}
