/** What a `postgres` dependency's endpoint carries in `settings`, for the data client and the migration gate. */
import type { DependencyEndpoint } from '../dependency-endpoint.js'
import type { MigrationsOptions } from './migrations.js'

/** What the database endpoint's `settings` hold, for the data client and the migration gate. */
export interface PostgresSettings {
  database: string
  template: string
  /** The administrator's URL (without a database), to branch the template again. */
  adminUrl: string
  versionNum: number
  migrations?: MigrationsOptions
  roots: { candidate: string; baseline: string }
  /** Names of the migrations this side applied on its branch (new in the candidate). */
  applied: string[]
  /** This side's new migration that failed to apply, one line. */
  migrationFailure?: string
}

/** The settings of a postgres endpoint, or undefined for any other kind. */
export function postgresSettings(endpoint: DependencyEndpoint): PostgresSettings | undefined {
  return endpoint.kind === 'postgres' ? (endpoint.settings as unknown as PostgresSettings) : undefined
}
