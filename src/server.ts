import cluster from 'node:cluster'
import { pathToFileURL } from 'node:url'
import closeWithGrace from 'close-with-grace'
import { buildMtlsApp, buildPublicApp, type App } from './app.js'
import { systemClock } from './clock.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { openDatabase, targetFrom, type Database } from './db/database.js'
import { applyMigrations } from './db/migrations.js'
import { initDirectory } from './init.js'
import { createServices } from './services.js'
import { superviseWorkers, type WorkerReady } from './workers.js'

export interface Running {
  publicApp: App
  mtlsApp: App
  db: Database
  init: string[]
  urls: { public: string, mtls: string }
  close: () => Promise<void>
}

/** Migrations, then init on first start: once per start, before any listener (the primary's job with WORKERS > 1). */
async function prepare (config: Config, db: Database): Promise<string[]> {
  await applyMigrations(db)
  return (await initDirectory(config, db, systemClock)).messages
}

/**
 * config → database (migrated) → init on first start → services → both listeners. `prepared`: a cluster
 * worker, whose primary has migrated and initialised the database already.
 */
export async function serve (config: Config, opts: { prepared?: boolean } = {}): Promise<Running> {
  const db = await openDatabase(targetFrom(config), { owner: 'server' })
  let init: string[] = []
  try {
    if (!opts.prepared) init = await prepare(config, db)
  } catch (err) {
    await db.close()
    throw err
  }
  const services = await createServices(config, db, systemClock)
  const publicApp = await buildPublicApp(config, services)
  const mtlsApp = await buildMtlsApp(config, services)
  await publicApp.listen({ host: config.HOST, port: config.PUBLIC_PORT })
  await mtlsApp.listen({ host: config.HOST, port: config.MTLS_PORT })
  services.delivery.start(publicApp.log)
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST
  const portOf = (app: App): number => { const a = app.server.address(); return typeof a === 'object' && a ? a.port : 0 }
  db.lock?.describe({ urls: { public: `http://${host}:${portOf(publicApp)}`, mtls: `https://${host}:${portOf(mtlsApp)}` } })
  return {
    publicApp,
    mtlsApp,
    db,
    init,
    urls: { public: `http://${host}:${portOf(publicApp)}`, mtls: `https://${host}:${portOf(mtlsApp)}` },
    // Listeners first (in-flight requests finish), then the services and the database they used.
    close: async () => { await Promise.all([publicApp.close(), mtlsApp.close()]); await services.delivery.stop(); services.close(); await db.close() },
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
  if (config.WORKERS > 1) return cluster.isPrimary ? primary(config) : worker(config)
  const running = await serve(config)
  const log = running.publicApp.log
  log.info({ database: running.db.kind, urls: running.urls }, 'ecosystem directory ready')
  banner(config, running.db.kind, running.init, running.urls)
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down')
    await running.close()
  })
}

function banner (config: Config, kind: Database['kind'], init: string[], urls: Running['urls']): void {
  const workers = config.WORKERS > 1 ? `, ${config.WORKERS} workers` : ''
  process.stdout.write(`\nEcosystem Directory (${kind === 'postgres' ? 'PostgreSQL' : `PGlite in ${config.DATA_DIR}`}${workers})\n` +
    init.map((m) => `  init:     ${m}\n`).join('') +
    `  public:   ${urls.public}   (discovery: ${urls.public}/.well-known/openid-configuration)\n` +
    `  mTLS:     ${urls.mtls}   (token endpoint, participant and admin API)\n` +
    (config.PORTAL_ENABLED ? `  portal:   ${urls.public}/portal/   (sign in with a passkey; setup links from init or user:invite)\n` : '') +
    `  docs:     ${urls.public}/docs\n  health:   ${urls.public}/readyz\n\n`)
}

/** WORKERS > 1: prepare the database once, then fork the workers that serve. */
async function primary (config: Config): Promise<void> {
  const db = await openDatabase(targetFrom(config))
  let init: string[]
  try { init = await prepare(config, db) } finally { await db.close() }
  const log = (line: string): void => { process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, msg: line })}\n`) }
  const workers = await superviseWorkers(config.WORKERS, log)
  banner(config, db.kind, init, workers.urls)
  closeWithGrace({ delay: 15_000 }, async ({ err }) => {
    if (err) log(`shutting down after an error: ${err.message}`)
    await workers.close()
  })
}

async function worker (config: Config): Promise<void> {
  const running = await serve(config, { prepared: true })
  process.send?.({ type: 'directory:ready', urls: running.urls } satisfies WorkerReady)
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) running.publicApp.log.error({ err }, 'worker shutting down after an error')
    else running.publicApp.log.info({ signal }, 'worker shutting down')
    await running.close()
  })
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => { console.error(err instanceof Error ? err.message : err); process.exit(1) })
}
