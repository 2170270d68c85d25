import { pathToFileURL } from 'node:url'
import closeWithGrace from 'close-with-grace'
import { buildPublicApp, type App } from './app.js'
import { systemClock } from './clock.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { openDatabase, targetFrom, type Database } from './db/database.js'
import { applyMigrations } from './db/migrations.js'
import { createServices } from './services.js'

export interface Running {
  publicApp: App
  db: Database
  urls: { public: string }
  close: () => Promise<void>
}

/** config → database (migrated) → services → listeners. */
export async function serve (config: Config): Promise<Running> {
  const db = await openDatabase(targetFrom(config))
  try {
    await applyMigrations(db)
  } catch (err) {
    await db.close()
    throw err
  }
  const services = createServices(config, db, systemClock)
  const publicApp = await buildPublicApp(config, services)
  await publicApp.listen({ host: config.HOST, port: config.PUBLIC_PORT })
  const address = publicApp.server.address()
  const port = typeof address === 'object' && address ? address.port : config.PUBLIC_PORT
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST
  return {
    publicApp,
    db,
    urls: { public: `http://${host}:${port}` },
    // Listeners first (in-flight requests finish), then the database they were using.
    close: async () => { await publicApp.close(); await db.close() },
  }
}

async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) { console.error(err.message); process.exit(2) }
    throw err
  }
  const running = await serve(config)
  const log = running.publicApp.log
  log.info({ database: running.db.kind, urls: running.urls }, 'ecosystem directory ready')
  process.stdout.write(`\nEcosystem Directory (${running.db.kind === 'postgres' ? 'PostgreSQL' : `PGlite in ${config.DATA_DIR}`})\n` +
    `  public:   ${running.urls.public}\n  docs:     ${running.urls.public}/docs\n  health:   ${running.urls.public}/readyz\n\n`)
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down')
    await running.close()
  })
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => { console.error(err instanceof Error ? err.message : err); process.exit(1) })
}
