/** The labels and annotations vigil puts on what it creates, and the names it gives. */

/** On every object vigil creates. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'vigil' } as const
/** The run that created a namespace, Job or TestRun. */
export const RUN_ID_LABEL = 'vigil.dev/run-id'
/** `candidate` or `baseline`. */
export const SIDE_LABEL = 'vigil.dev/side'
/** The sandbox service a workload belongs to; also the generated Deployments' selector. */
export const SERVICE_LABEL = 'vigil.dev/service'
/** The routing key of forked workloads, for a mesh that routes by header. */
export const ROUTING_KEY_LABEL = 'vigil.dev/routing-key'
/** When a namespace may be deleted by `vigil sandboxes gc` (RFC 3339). */
export const EXPIRES_ANNOTATION = 'vigil.dev/expires-at'
/** Which process created it (host and pid), to tell a killed run's namespace from a live one. */
export const OWNER_ANNOTATION = 'vigil.dev/owner'

/** Selects every namespace vigil created. */
export const MANAGED_NAMESPACES = `${RUN_ID_LABEL},app.kubernetes.io/managed-by=vigil`

/**
 * A DNS-1123 label from free text: lower case, `[a-z0-9-]`, starting with a letter, at most `max` characters.
 * @default max 63
 */
export function dnsLabel(text: string, max = 63): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, max)
    .replace(/-+$/, '')
  return cleaned || 'x'
}
