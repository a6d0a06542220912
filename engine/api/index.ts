/**
 * What a plug-in imports: a check kind (`kind.ts` and its helpers), a client, a sandbox provider, an
 * executor. Kinds and providers import `engine/api/…` and the shared services below it, never another
 * plug-in, an executor or the run (eslint.layers.js). The less common helpers (OpenAPI and JSON Schema
 * documents, setup requests, assertions, JSON pointers) are imported from their own modules.
 */
export {
  defineCheckKind,
  type AnyCheckKind,
  type CheckContext,
  type CheckKind,
  type CheckKindMeta,
  type CheckMemory,
  type CheckSandboxes,
  type ReportDescriptor,
  type Variables,
} from './kind.js'
export * from './evidence.js'
export {
  defineClient,
  OffSandboxTrafficError,
  SandboxAddresses,
  type ClientContext,
  type ClientFactory,
  type ClientName,
  type Clients,
} from '../clients/index.js'
export {
  defineSandboxProvider,
  OffSandboxPathError,
  serviceUrl,
  type IsolatedService,
  type Sandbox,
  type SandboxProvider,
  type SandboxStartContext,
  type ServiceEndpoint,
} from './sandbox.js'
export {
  defineExecutor,
  type ExecuteOptions,
  type ExecuteResult,
  type Executor,
  type ExecutorReporter,
  type ExecutorRun,
} from './executor.js'
export {
  parseRequestLine,
  requestSchema,
  statusSchema,
  stringMapSchema,
  type RequestInput,
} from './vocabulary.js'
export { CheckSkipped } from '../errors.js'
