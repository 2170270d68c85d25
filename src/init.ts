import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { Actor } from './audit/audit-log.js'
import { AuditLog } from './audit/audit-log.js'
import { operatorScopes } from './auth/scopes.js'
import type { Clock } from './clock.js'
import type { Config } from './config.js'
import type { Database } from './db/database.js'
import { loadMasterKey } from './keys/master-key.js'
import { SigningKeys } from './keys/signing-keys.js'
import { KeyVault } from './keys/vault.js'
import { CertificateAuthority } from './pki/authority.js'
import { initAuthority, loadAuthority } from './pki/ca-store.js'
import { toPem } from './pki/pem.js'
import { bumpRegistryVersion } from './registry/deps.js'
import type { SetupLinkIssued } from './portal/users.js'
import { portalServices } from './services.js'

export interface InitReport { messages: string[], changed: boolean }

/**
 * `init` (also run by `serve` on first start): master key, root + issuing CA, TLS server certificate,
 * directory signing keys, and the operator's organisation, client and credentials under
 * DATA_DIR/operator/. Idempotent: a second run changes nothing and says so.
 */
export async function initDirectory (config: Config, db: Database, clock: Clock, who: Actor = { actor: 'system:init' }): Promise<InitReport> {
  const messages: string[] = []
  const master = await loadMasterKey(config, db.prisma)
  const vault = new KeyVault(master)
  const audit = new AuditLog(clock)
  const ca = await initAuthority({ prisma: db.prisma, vault, audit, clock, config }, who)
  messages.push(ca.created ? 'created the root CA and the issuing CA' : 'the certificate authority exists: unchanged')
  if (ca.issuingReissued) messages.push('re-issued the issuing CA certificate (same key and name, new serial) to point at the root CRL and OCSP')
  if (ca.tlsIssued) messages.push(`issued the mTLS listener's server certificate (${config.TLS_SERVER_KEY.join(', ')}) for ${config.TLS_SERVER_NAMES.join(', ')}`)
  const keys = new SigningKeys(db.prisma, vault, audit, clock, { alg: config.SIGNING_ALG, overlapSeconds: config.KEY_OVERLAP_SECONDS })
  messages.push(await keys.ensure(who) ? `created the directory signing keys (${config.SIGNING_ALG}, active and next)` : 'directory signing keys exist: unchanged')
  const operator = await ensureOperator(config, db, clock, vault, audit, who)
  messages.push(operator ? `created the operator client ${operator}; credentials in ${join(config.DATA_DIR, 'operator')}/` : 'the operator client exists: unchanged')
  const link = config.PORTAL_ENABLED ? await ensurePortalOperator(config, db, clock, audit, who) : undefined
  if (link) messages.push(`first operator (${config.PORTAL_OPERATOR_EMAIL}) one-time setup link, valid until ${link.expires_at.toISOString()}:\n            ${link.setup_url}`)
  // A fresh setup link is access for the person at the console, not a change to the directory's state.
  return { messages, changed: ca.created || ca.issuingReissued || ca.tlsIssued || operator !== undefined }
}

/**
 * Until some operator-admin has a passkey, every start hands out a fresh setup link for the first one
 * (a link printed by an earlier start stops working): the person at the console can always get in.
 */
async function ensurePortalOperator (config: Config, db: Database, clock: Clock, audit: AuditLog, who: Actor): Promise<SetupLinkIssued | undefined> {
  const ready = await db.prisma.portalUser.findFirst({ where: { operatorRole: 'operator-admin', passkeys: { some: {} } }, select: { id: true } })
  if (ready) return undefined
  const users = portalServices(config, db.prisma, audit, clock).users
  return users.invite({ scope: 'operator', email: config.PORTAL_OPERATOR_EMAIL, role: 'operator-admin' }, who, { reissue: true })
}

async function ensureOperator (config: Config, db: Database, clock: Clock, vault: KeyVault, audit: AuditLog, who: Actor): Promise<string | undefined> {
  const hasOperator = async (q: Pick<Database['prisma'], 'client'>) => (await q.client.findFirst({ where: { scopes: { has: 'directory:admin' } }, select: { id: true } })) !== null
  // Every start passes here: leave before decrypting the CA or generating keys when there is an operator.
  if (await hasOperator(db.prisma)) return undefined
  const authority = new CertificateAuthority({ prisma: db.prisma, sql: db.sql, audit, clock, config }, await loadAuthority(db.prisma, vault))
  const orgId = randomUUID()
  const clientId = randomUUID()
  const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const publicJwk = createPublicKey(signing.privateKey).export({ format: 'jwk' }) as JWK
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  const transport = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  // Instances starting together on one database must not each create an operator.
  const created = await db.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(7469)')
    if (await hasOperator(tx)) return false
    await tx.organisation.create({ data: { id: orgId, legalName: 'Ecosystem Operator', registrationNumber: 'OPERATOR', country: 'ZZ', status: 'active' } })
    await tx.client.create({ data: { id: clientId, organisationId: orgId, jwks: { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] }, scopes: operatorScopes } })
    await audit.append(tx, who, { action: 'operator.create', target: `organisation:${orgId}`, after: { client_id: clientId } })
    await bumpRegistryVersion(tx)
    return true
  })
  if (!created) return undefined
  const cert = await authority.issue({ orgId, subjectId: clientId, type: 'transport', csr: { spki: createPublicKey(transport.privateKey).export({ format: 'der', type: 'spki' }) } }, who)
  const dir = join(config.DATA_DIR, 'operator')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const secret = { mode: 0o600 }
  await writeFile(join(dir, 'client.json'), JSON.stringify({
    client_id: clientId, org_id: orgId, issuer: config.DIRECTORY_ISSUER, token_endpoint: `${config.MTLS_BASE_URL}/token`,
    mtls_base_url: config.MTLS_BASE_URL, signing_kid: kid, signing_alg: 'ES256',
  }, null, 2) + '\n')
  await writeFile(join(dir, 'transport.key'), transport.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, secret)
  await writeFile(join(dir, 'transport.pem'), cert.certificate + cert.chain.join(''))
  await writeFile(join(dir, 'signing.key'), signing.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, secret)
  await writeFile(join(dir, 'ca.pem'), authority.caBundlePem())
  await chmod(join(dir, 'transport.key'), 0o600)
  return clientId
}

