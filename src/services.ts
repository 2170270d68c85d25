import { AuditLog } from './audit/audit-log.js'
import { Enrolment } from './auth/enrolment.js'
import { TokenService } from './auth/tokens.js'
import type { Clock } from './clock.js'
import type { Config } from './config.js'
import type { Database } from './db/database.js'
import { EventDelivery } from './events/delivery.js'
import { EventSubscriptions } from './events/subscriptions.js'
import { loadMasterKey } from './keys/master-key.js'
import { SigningKeys } from './keys/signing-keys.js'
import { KeyVault } from './keys/vault.js'
import { CertificateAuthority } from './pki/authority.js'
import { loadAuthority } from './pki/ca-store.js'
import { OcspCache } from './pki/ocsp-cache.js'
import { DocumentCache } from './publication/document-cache.js'
import { AuthorisationServers } from './registry/authorisation-servers.js'
import { Organisations } from './registry/organisations.js'
import { SoftwareStatements } from './registry/software-statements.js'
import { SsaService } from './ssa/ssa-service.js'
import type { Profiles } from './profiles/index.js'
import { ObbrProfile } from './profiles/obbr/service.js'
import { OrganisationContacts } from './portal/contacts.js'
import { UkProfile } from './profiles/uk/service.js'
import { CdrProfile } from './profiles/cdr/service.js'
import { Passkeys } from './portal/passkeys.js'
import { PortalSessions } from './portal/sessions.js'
import { PortalUsers } from './portal/users.js'

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
  portal: PortalServices
  events: EventSubscriptions
  /** Push delivery of events; the server starts it (CLI commands and most tests do not). */
  delivery: EventDelivery
  /** undefined when ready, otherwise why not. */
  readiness: () => string | undefined
  close: () => void
}

export interface PortalServices { users: PortalUsers, sessions: PortalSessions, passkeys: Passkeys, contacts: OrganisationContacts }

/** The portal's people, sessions and passkeys; the relying party is the directory's public origin. */
export function portalServices (config: Config, prisma: Database['prisma'], audit: AuditLog, clock: Clock): PortalServices {
  const origin = new URL(config.DIRECTORY_ISSUER).origin
  return {
    users: new PortalUsers({ prisma, audit, clock, portalUrl: `${config.DIRECTORY_ISSUER}/portal`, setupLinkTtl: config.PORTAL_SETUP_LINK_TTL }),
    sessions: new PortalSessions({ prisma, audit, clock, idleSeconds: config.PORTAL_SESSION_IDLE_SECONDS, lifetimeSeconds: config.PORTAL_SESSION_LIFETIME_SECONDS }),
    passkeys: new Passkeys({ prisma, audit, clock, origin, rpId: new URL(origin).hostname, rpName: 'Ecosystem Directory' }),
    contacts: new OrganisationContacts({ prisma, audit }),
  }
}

/** Loads keys (decrypting them with the master key) and wires the services. Run init first. */
export async function createServices (config: Config, db: Database, clock: Clock, opts: { pollMs?: number } = {}): Promise<Services> {
  const prisma = db.prisma
  const vault = new KeyVault(await loadMasterKey(config, prisma))
  const audit = new AuditLog(clock)
  const keys = new SigningKeys(prisma, vault, audit, clock, { alg: config.SIGNING_ALG, overlapSeconds: config.KEY_OVERLAP_SECONDS })
  await keys.load()
  const documents = new DocumentCache(prisma, opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {})
  const ocspCache = new OcspCache({ sql: db.sql, registryVersion: () => documents.registryVersion() })
  const authority = new CertificateAuthority({ prisma, sql: db.sql, audit, clock, config, ocspCache }, await loadAuthority(prisma, vault))
  // Another instance may rotate the signing keys: reload them whenever the shared version moves.
  documents.onVersionChange(() => keys.load().catch(() => {}))
  documents.start()
  const registry = { prisma, audit, clock, config }
  const ssa = new SsaService({ sql: db.sql, clock, keys, config })
  const on = new Set(config.ECOSYSTEM_PROFILES)
  const profiles: Profiles = {
    ...(on.has('obbr') ? { obbr: new ObbrProfile({ prisma, clock, keys, authority, ssa, config }) } : {}),
    ...(on.has('uk') ? { uk: new UkProfile({ prisma, clock, keys, authority, ssa, config }) } : {}),
    ...(on.has('cdr') ? { cdr: new CdrProfile({ prisma, clock, keys, authority, ssa, audit, config }) } : {}),
  }
  const delivery = new EventDelivery({ prisma, clock, keys, config })
  return {
    config, db, clock, audit, vault, keys, authority, documents,
    organisations: new Organisations(registry),
    software: new SoftwareStatements(registry),
    authorisationServers: new AuthorisationServers(registry),
    tokens: new TokenService({ prisma, sql: db.sql, clock, keys, config }),
    enrolment: new Enrolment({ prisma, clock, audit, authority, config }),
    ssa,
    profiles,
    portal: portalServices(config, prisma, audit, clock),
    events: new EventSubscriptions({ prisma, audit, clock, keys, config }),
    delivery,
    readiness: () => (keys.ready ? undefined : 'signing keys not loaded'),
    close: () => { documents.stop(); void delivery.stop() },
  }
}
