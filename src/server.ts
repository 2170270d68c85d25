import { pathToFileURL } from 'node:url'
import closeWithGrace from 'close-with-grace'
import { buildMtlsApp, buildPublicApp, type App } from './app.js'
import { systemClock } from './clock.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { openDatabase, targetFrom, type Database } from './db/database.js'
import { applyMigrations } from './db/migrations.js'
import { initDirectory } from './init.js'
import { createServices } from './services.js'

export interface Running {
  publicApp: App
  mtlsApp: App
  db: Database
  init: string[]
  urls: { public: string, mtls: string }
  close: () => Promise<void>
}

/** config → database (migrated) → init on first start → services → both listeners. */
export async function serve (config: Config): Promise<Running> {
  const db = await openDatabase(targetFrom(config))
  let init: string[]
  try {
    await applyMigrations(db)
    init = (await initDirectory(config, db, systemClock)).messages
  } catch (err) {
    await db.close()
    throw err
  }
  const services = await createServices(config, db, systemClock)
  const publicApp = await buildPublicApp(config, services)
  const mtlsApp = await buildMtlsApp(config, services)
  await publicApp.listen({ host: config.HOST, port: config.PUBLIC_PORT })
  await mtlsApp.listen({ host: config.HOST, port: config.MTLS_PORT })
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST
  const portOf = (app: App): number => { const a = app.server.address(); return typeof a === 'object' && a ? a.port : 0 }
  return {
    publicApp,
    mtlsApp,
    db,
    init,
    urls: { public: `http://${host}:${portOf(publicApp)}`, mtls: `https://${host}:${portOf(mtlsApp)}` },
    // Listeners first (in-flight requests finish), then the services and the database they used.
    close: async () => { await Promise.all([publicApp.close(), mtlsApp.close()]); services.close(); await db.close() },
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
    running.init.map((m) => `  init:     ${m}\n`).join('') +
    `  public:   ${running.urls.public}   (discovery: ${running.urls.public}/.well-known/openid-configuration)\n` +
    `  mTLS:     ${running.urls.mtls}   (token endpoint, participant and admin API)\n` +
    (config.PORTAL_ENABLED ? `  portal:   ${running.urls.public}/portal/   (sign in with a passkey; setup links from init or user:invite)\n` : '') +
    `  docs:     ${running.urls.public}/docs\n  health:   ${running.urls.public}/readyz\n\n`)
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down')
    await running.close()
  })
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => { console.error(err instanceof Error ? err.message : err); process.exit(1) })
}
