import type { Clock } from './clock.js'
import type { Config } from './config.js'
import type { Database } from './db/database.js'

/** Everything the routes call, built once from the process's dependencies. */
export interface Services {
  config: Config
  db: Database
  clock: Clock
  /** undefined when ready, otherwise why not (keys not loaded, …). */
  readiness: () => string | undefined
}

export function createServices (config: Config, db: Database, clock: Clock): Services {
  return { config, db, clock, readiness: () => undefined }
}
