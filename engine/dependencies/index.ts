/**
 * Dependency kinds, one folder each, keyed by the `kind:` a sandbox's `dependencies:` entry names.
 * Adding one (a database, another broker) is a folder with `dependency.ts` and a line here.
 */
import type { DependencyKind } from '../api/dependency.js'
import mqtt from './mqtt/dependency.js'
import nats from './nats/dependency.js'
import postgres from './postgres/dependency.js'
import rabbitmq from './rabbitmq/dependency.js'
import redis from './redis/dependency.js'

export const dependencyKinds = { mqtt, nats, postgres, rabbitmq, redis } satisfies Record<
  string,
  DependencyKind<never>
>
export type DependencyKindName = keyof typeof dependencyKinds
export type DependencyRegistry = Readonly<Record<string, DependencyKind<never>>>
