import { loadConfig, type Config } from '../../src/config.js'
import { buildPublicApp, type App } from '../../src/app.js'
import type { Clock } from '../../src/clock.js'
import type { Database } from '../../src/db/database.js'
import { createServices, type Services } from '../../src/services.js'
import { testDatabase } from './database.js'

export class TestClock implements Clock {
  constructor (private t = Date.now()) {}
  now (): Date { return new Date(this.t) }
  advance (seconds: number): void { this.t += seconds * 1000 }
}

export interface TestApp {
  app: App
  services: Services
  db: Database
  config: Config
  clock: TestClock
  logs: string[]
  /** The PostgreSQL URL of this test's own database (undefined on PGlite). */
  dbUrl?: string
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** The real public app on its own migrated database, for `app.inject`. */
export async function buildTestApp (t: Teardown, env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({ LOG_LEVEL: 'info', DATA_DIR: '/nonexistent', ...env })
  const { db, url: dbUrl } = await testDatabase(t)
  const clock = new TestClock()
  const services = createServices(config, db, clock)
  const logs: string[] = []
  const app = await buildPublicApp(config, services, { logStream: { write: (line) => { logs.push(line) } } })
  t.teardown(() => app.close())
  return { app, services, db, config, clock, logs, ...(dbUrl ? { dbUrl } : {}) }
}
