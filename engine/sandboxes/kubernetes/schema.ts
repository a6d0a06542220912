/** JSON Schema and types of the `kubernetes` sandbox provider's options in `vigil.config.yaml`. */
import type { JsonSchema } from '../../../plans/types.js'
import { defaultServiceSchema, durationSchema } from '../schema-parts.js'

const stringMap = { type: 'object', additionalProperties: { type: 'string' } }
const envMap = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }
const port = { type: 'integer', minimum: 1, maximum: 65535 }
const dnsName = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }

const service = {
  type: 'object',
  additionalProperties: false,
  properties: {
    manifests: {
      type: 'array',
      minItems: 1,
      items: { type: 'string' },
      description:
        'YAML files of the service (Deployment, Service, ConfigMaps…), relative to the config file.',
    },
    image: { type: 'string', minLength: 1, description: 'Image of a generated Deployment + Service.' },
    port: { ...port, description: 'Container and Service port. @default the Service first port' },
    env: { ...envMap, description: 'Environment of the generated container.' },
    args: { type: 'array', items: { type: 'string' }, description: 'Arguments of the generated container.' },
    replicas: { type: 'integer', minimum: 1, maximum: 20, description: '@default 1' },
    readyPath: {
      type: 'string',
      pattern: '^/',
      description: 'HTTP readiness probe path. @default a TCP probe',
    },
    serviceName: { ...dnsName, description: 'Name of its Kubernetes Service. @default the service name' },
    candidate: {
      type: 'object',
      additionalProperties: false,
      description: 'What makes the candidate: applied to this service when the change touches it.',
      properties: {
        image: { type: 'string', minLength: 1 },
        env: envMap,
        container: {
          type: 'string',
          description:
            'Container to change, in every workload of the service that has one. @default the first container, when the service has a single workload',
        },
      },
    },
  },
}

export const kubernetesSchema: JsonSchema = {
  $id: 'https://vigil.dev/schema/sandbox-kubernetes.json',
  title: 'kubernetes sandbox',
  description:
    'Services on a Kubernetes cluster: an ephemeral namespace with the workloads the change touches, the rest from a shared baseline namespace.',
  type: 'object',
  additionalProperties: false,
  required: ['provider', 'services'],
  properties: {
    provider: { const: 'kubernetes' },
    kubeconfig: {
      type: 'string',
      description:
        'kubeconfig file, relative to the config file. @default $KUBECONFIG, ~/.kube/config, or in-cluster',
    },
    context: { type: 'string', description: 'kubeconfig context. @default the current context' },
    default: defaultServiceSchema,
    services: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
      additionalProperties: service,
    },
    touched: {
      type: 'array',
      items: { type: 'string' },
      description:
        'Services the change touches: only these are deployed for the candidate. @default all of them',
    },
    baselineNamespace: {
      ...dnsName,
      description: 'Shared namespace where the baseline already runs; untouched services are reached there.',
    },
    routing: {
      type: 'object',
      additionalProperties: false,
      required: ['header'],
      description: 'A mesh routes forks by header: requests go to the shared namespace with this header.',
      properties: {
        header: { type: 'string', minLength: 1, description: 'e.g. baggage' },
        value: { type: 'string', description: '{{key}} is the routing key. @default sd-routing-key={{key}}' },
      },
    },
    access: {
      enum: ['auto', 'port-forward', 'cluster-dns'],
      description:
        'port-forward from this machine, or cluster DNS when vigil runs in the cluster. @default auto',
    },
    namespacePrefix: { type: 'string', pattern: '^[a-z][-a-z0-9]{0,30}$', description: '@default vigil' },
    ttl: {
      ...durationSchema,
      description: 'Expiry of the run namespace, for `vigil sandboxes gc`. @default 2h',
    },
    readyTimeout: { ...durationSchema, description: 'Deadline for the rollout. @default 3m' },
    teardownTimeout: {
      ...durationSchema,
      description: 'How long to await the namespace deletion. @default 2m',
    },
    headers: { ...stringMap, description: 'Headers sent with every request to this sandbox.' },
  },
}

export interface KubernetesServiceOptions {
  manifests?: string[]
  image?: string
  /** @default the Service first port */
  port?: number
  env?: Record<string, string | number | boolean>
  args?: string[]
  /** @default 1 */
  replicas?: number
  /** @default a TCP probe */
  readyPath?: string
  /** @default the service name */
  serviceName?: string
  candidate?: { image?: string; env?: Record<string, string | number | boolean>; container?: string }
}

/** The options as validated by `kubernetesSchema`. */
export interface KubernetesSandboxOptions {
  provider: 'kubernetes'
  /** @default $KUBECONFIG, ~/.kube/config, or in-cluster */
  kubeconfig?: string
  /** @default the current context */
  context?: string
  /** @default the only service */
  default?: string
  services: Record<string, KubernetesServiceOptions>
  /** @default all services */
  touched?: string[]
  baselineNamespace?: string
  routing?: { header: string; value?: string }
  /** @default auto */
  access?: 'auto' | 'port-forward' | 'cluster-dns'
  /** @default vigil */
  namespacePrefix?: string
  /** @default 2h */
  ttl?: string | number
  /** @default 3m */
  readyTimeout?: string | number
  /** @default 2m */
  teardownTimeout?: string | number
  headers?: Record<string, string>
}
