import { AuditLog } from './audit/audit-log.js'
import { Enrolment } from './auth/enrolment.js'
import { TokenService } from './auth/tokens.js'
import type { Clock } from './clock.js'
import type { Config } from './config.js'
import type { Database } from './db/database.js'
import { loadMasterKey } from './keys/master-key.js'
import { SigningKeys } from './keys/signing-keys.js'
import { KeyVault } from './keys/vault.js'
import { CertificateAuthority } from './pki/authority.js'
import { loadAuthority } from './pki/ca-store.js'
import { DocumentCache } from './publication/document-cache.js'
import { AuthorisationServers } from './registry/authorisation-servers.js'
import { Organisations } from './registry/organisations.js'
import { SoftwareStatements } from './registry/software-statements.js'
import { SsaService } from './ssa/ssa-service.js'
import type { Profiles } from './profiles/index.js'
import { ObbrProfile } from './profiles/obbr/service.js'

/** Everything the routes call, built once from the process's dependencies (no module singletons). */
export interface Services {
  config: Config
  db: Database
  clock: Clock
  audit: AuditLog
  vault: KeyVault
  keys: SigningKeys
  authority: CertificateAuthority
  organisations: Organisations
  software: SoftwareStatements
  authorisationServers: AuthorisationServers
  documents: DocumentCache
  tokens: TokenService
  enrolment: Enrolment
  ssa: SsaService
  /** Ecosystem wire formats (ECOSYSTEM_PROFILES): views over the registry. */
  profiles: Profiles
  /** undefined when ready, otherwise why not. */
  readiness: () => string | undefined
  close: () => void
}

/** Loads keys (decrypting them with the master key) and wires the services. Run init first. */
export async function createServices (config: Config, db: Database, clock: Clock, opts: { pollMs?: number } = {}): Promise<Services> {
  const prisma = db.prisma
  const vault = new KeyVault(await loadMasterKey(config, prisma))
  const audit = new AuditLog(clock)
  const keys = new SigningKeys(prisma, vault, audit, clock, { alg: config.SIGNING_ALG, overlapSeconds: config.KEY_OVERLAP_SECONDS })
  await keys.load()
  const authority = new CertificateAuthority({ prisma, audit, clock, config }, await loadAuthority(prisma, vault))
  const documents = new DocumentCache(prisma, opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {})
  // Another instance may rotate the signing keys: reload them whenever the shared version moves.
  documents.onVersionChange(() => keys.load().catch(() => {}))
  documents.start()
  const registry = { prisma, audit, clock, config }
  const ssa = new SsaService({ prisma, clock, keys, config })
  const on = new Set(config.ECOSYSTEM_PROFILES)
  const profiles: Profiles = {
    ...(on.has('obbr') ? { obbr: new ObbrProfile({ prisma, clock, keys, authority, ssa, config }) } : {}),
  }
  return {
    config, db, clock, audit, vault, keys, authority, documents,
    organisations: new Organisations(registry),
    software: new SoftwareStatements(registry),
    authorisationServers: new AuthorisationServers(registry),
    tokens: new TokenService({ prisma, clock, keys, config }),
    enrolment: new Enrolment({ prisma, clock, audit, authority, config }),
    ssa,
    profiles,
    readiness: () => (keys.ready ? undefined : 'signing keys not loaded'),
    close: () => documents.stop(),
  }
}
