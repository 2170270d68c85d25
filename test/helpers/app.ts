import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildMtlsApp, buildPublicApp, type App } from '../../src/app.js'
import type { Clock } from '../../src/clock.js'
import { loadConfig, type Config } from '../../src/config.js'
import type { Database } from '../../src/db/database.js'
import { initDirectory } from '../../src/init.js'
import { createServices, type Services } from '../../src/services.js'
import { testDatabase } from './database.js'

/**
 * The directory's clock, moved by hand. Frozen by default, so tests decide when time passes; `following` keeps pace
 * with real time, for suites whose other parties (an AS, an SDK client) read the real clock: a long run on a busy
 * machine must not leave the directory behind them.
 */
export class TestClock implements Clock {
  #start = Date.now()
  #offset = 0
  constructor (private readonly following = false) {}
  now (): Date { return new Date((this.following ? Date.now() : this.#start) + this.#offset) }
  advance (seconds: number): void { this.#offset += seconds * 1000 }
}

export interface Operator {
  clientId: string
  orgId: string
  signingKid: string
  signingKeyPem: string
  transportKeyPem: string
  transportCertPem: string
  caPem: string
}

export interface TestApp {
  /** The public listener (use `inject`, or `publicUrl` for real sockets). */
  app: App
  mtlsApp: App
  publicUrl: string
  mtlsUrl: string
  services: Services
  db: Database
  config: Config
  clock: TestClock
  logs: string[]
  dataDir: string
  operator: Operator
  /** The PostgreSQL URL of this test's own database (undefined on PGlite). */
  dbUrl?: string
}

interface Teardown { teardown: (fn: () => unknown) => void }

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

async function readOperator (dir: string): Promise<Operator> {
  const client = JSON.parse(await readFile(join(dir, 'client.json'), 'utf8'))
  return {
    clientId: client.client_id, orgId: client.org_id, signingKid: client.signing_kid,
    signingKeyPem: await readFile(join(dir, 'signing.key'), 'utf8'),
    transportKeyPem: await readFile(join(dir, 'transport.key'), 'utf8'),
    transportCertPem: await readFile(join(dir, 'transport.pem'), 'utf8'),
    caPem: await readFile(join(dir, 'ca.pem'), 'utf8'),
  }
}

/**
 * The real directory on its own migrated database: init (CA, keys, operator), services, and both
 * listeners on 127.0.0.1 ephemeral ports with real TLS.
 */
export async function buildTestApp (t: Teardown, env: Record<string, string> = {}, opts: { db?: { db: Database, url?: string, fresh?: boolean }, publicRoutes?: (app: App) => void, clock?: TestClock } = {}): Promise<TestApp> {
  const [publicPort, mtlsPort] = [await freePort(), await freePort()]
  const dataDir = await mkdtemp(join(tmpdir(), 'directory-test-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const config = loadConfig({
    LOG_LEVEL: 'info', DATA_DIR: dataDir, HOST: '127.0.0.1', PUBLIC_PORT: String(publicPort), MTLS_PORT: String(mtlsPort),
    DIRECTORY_ISSUER: `http://127.0.0.1:${publicPort}`, MTLS_BASE_URL: `https://127.0.0.1:${mtlsPort}`,
    DIRECTORY_MASTER_KEY: randomBytes(32).toString('base64'), TLS_SERVER_NAMES: 'localhost,127.0.0.1',
    ...env,
  })
  const { db, url: dbUrl } = opts.db ?? await testDatabase(t)
  const clock = opts.clock ?? new TestClock()
  await initDirectory(config, db, clock)
  const services = await createServices(config, db, clock, { pollMs: 100 })
  t.teardown(() => services.close())
  const logs: string[] = []
  const logStream = { write: (line: string) => { logs.push(line) } }
  const app = await buildPublicApp(config, services, { logStream })
  const mtlsApp = await buildMtlsApp(config, services, { logStream })
  opts.publicRoutes?.(app)
  await app.listen({ host: '127.0.0.1', port: config.PUBLIC_PORT })
  await mtlsApp.listen({ host: '127.0.0.1', port: mtlsPort })
  t.teardown(() => Promise.all([app.close(), mtlsApp.close()]))
  // init writes the operator's credentials once per database: a second instance on a shared
  // database has none of its own (`fresh`: a database of the test's own, initialised here).
  const operator = opts.db && !opts.db.fresh ? undefined : await readOperator(join(dataDir, 'operator'))
  return {
    app, mtlsApp, publicUrl: config.DIRECTORY_ISSUER, mtlsUrl: config.MTLS_BASE_URL, services, db, config, clock, logs, dataDir,
    get operator (): Operator {
      if (!operator) throw new Error('this instance shares another\'s database: use the first instance\'s operator')
      return operator
    },
    ...(dbUrl ? { dbUrl } : {}),
  }
}
