/** Errors of the Kubernetes area. Each has a fixed `code`; messages begin with where the problem is. */
import { ConfigError, InfrastructureError, VigilError } from '../errors.js'

/** The kubeconfig or context cannot be used: exit 2, the user has to fix their setup. */
export class KubernetesConfigError extends ConfigError {}

/** Workloads did not become ready in time; carries the pods' events and container statuses. */
export class RolloutError extends InfrastructureError {
  constructor(message: string, details: string[], options?: { cause?: unknown }) {
    super(message, details, { ...options, code: 'VIGIL_K8S_ROLLOUT' })
  }
}

/** An API call the run needed failed (permissions, a validation error, the server unreachable). */
export class KubernetesApiError extends InfrastructureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, [], { ...options, code: 'VIGIL_K8S_API' })
  }
}

/** A manifest file cannot be read or is not what the provider can deploy. */
export class ManifestError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_K8S_MANIFEST', message, { ...options, exitCode: 2 })
  }
}

/** A Job or TestRun ran, but gave no usable result (no JSON, a failed pod with no message). */
export class ClusterJobError extends InfrastructureError {
  constructor(message: string, logTail: string[] = [], options?: { cause?: unknown }) {
    super(message, logTail, { ...options, code: 'VIGIL_K8S_JOB' })
  }
}
