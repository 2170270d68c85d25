import { createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto'
import type { Actor, AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import { ConfigError, type Config } from '../config.js'
import type { Prisma, Tx } from '../db/database.js'
import type { KeyVault } from '../keys/vault.js'
import { bumpRegistryVersion } from '../registry/deps.js'
import { createIssuer, describeCertificate, issueCertificate, newSerial, type Issuer, type NameAttribute } from './certificate.js'
import { generateKeyPair, keyTypeOf, spkiOf, type KeyType } from './keys.js'
import { OID } from './oids.js'
import { fromPem, toPem } from './pem.js'
import { pkiUrls } from './urls.js'
import { readCertificate, readKeyIdentifier, revocationPointers } from './x509.js'

/** The directory's own PKI material, decrypted in memory for the life of the process. */
export interface AuthorityMaterial {
  rootDer: Buffer
  /**
   * The root's key when this directory holds it (made by init, or imported with the root key): it signs the
   * root CRL and answers OCSP about the issuing CA. Absent for an imported CA whose root stays with its owner.
   */
  root?: Issuer
  issuer: Issuer
  issuingDer: Buffer
  /** The mTLS listener's key and certificate, one per configured key type (TLS_SERVER_KEY). */
  tls: Array<{ keyPem: string, certPem: string }>
}

const day = 24 * 3600 * 1000
type KeyPair = ReturnType<typeof generateKeyPair>
const caName = (cn: string): NameAttribute[] => [{ type: 'O', value: 'Ecosystem Directory' }, { type: 'CN', value: cn }]

type CaConfig = Pick<Config, 'CA_ROOT_KEY' | 'CA_ISSUING_KEY' | 'TLS_SERVER_NAMES' | 'TLS_SERVER_KEY' | 'DIRECTORY_ISSUER'>
type Deps = { prisma: Prisma, vault: KeyVault, audit: AuditLog, clock: Clock, config: CaConfig }

async function store (tx: Tx, vault: KeyVault, kind: string, der: Buffer, key: KeyObject, keyType: string): Promise<void> {
  const sealed = vault.seal(key, kind, keyType)
  await tx.encryptedKey.create({ data: sealed })
  const info = describeCertificate(der)
  await tx.authorityCertificate.create({
    data: { id: randomUUID(), kind, keyId: sealed.id, der: new Uint8Array(der), serial: info.serialHex, notAfter: info.notAfter },
  })
}

/** NIST SP 800-131A Rev. 2: 2048-bit RSA is not acceptable past 2030, and a root outlives that. */
export function checkRootKeyType (type: string): void {
  if (type === 'rsa-2048') throw new ConfigError('invalid configuration: CA_ROOT_KEY: a new RSA root needs 3072 bits or more (rsa-3072, rsa-4096); rsa-2048 is not acceptable past 2030 (NIST SP 800-131A)')
}

/**
 * `init`: creates the root CA and the issuing CA (idempotent: a second run changes nothing and says
 * so), brings the issuing CA certificate up to date (root CRL and OCSP pointers), then makes sure the mTLS
 * listener has a server certificate for the configured names and key types.
 */
export async function initAuthority (d: Deps, who: Actor): Promise<{ created: boolean, issuingReissued: boolean, tlsIssued: boolean }> {
  const hasCa = async (tx: Tx | Prisma): Promise<boolean> => await tx.authorityCertificate.count({ where: { kind: 'issuing-ca', active: true } }) > 0
  // RSA key generation takes seconds (more on a busy host): keys are made before the transaction, which has a
  // deadline (DB_TRANSACTION_TIMEOUT_MS); a concurrent init that wins the lock makes them unused.
  let keys: { root: KeyPair, issuing: KeyPair } | undefined
  if (!await hasCa(d.prisma)) {
    checkRootKeyType(d.config.CA_ROOT_KEY)
    keys = { root: generateKeyPair(d.config.CA_ROOT_KEY as KeyType), issuing: generateKeyPair(d.config.CA_ISSUING_KEY as KeyType) }
  }
  const created = keys !== undefined && await d.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(7467)')
    if (await hasCa(tx)) return false
    const { root, issuing } = keys
    const now = d.clock.now()
    const notBefore = new Date(now.getTime() - 60_000)
    const rootDer = issueCertificate({
      serial: newSerial(), subject: caName('Ecosystem Directory Root CA'), publicKey: spkiOf(root.publicKey),
      notBefore, notAfter: new Date(now.getTime() + 20 * 365 * day), profile: 'root-ca',
    }, { selfSigned: root.privateKey })
    const issuingDer = issueCertificate({
      serial: newSerial(), subject: caName('Ecosystem Directory Issuing CA'), publicKey: spkiOf(issuing.publicKey),
      notBefore, notAfter: new Date(now.getTime() + 10 * 365 * day), profile: 'issuing-ca', pathLen: 0,
      ...issuingCaPointers(d.config.DIRECTORY_ISSUER),
    }, createIssuer(rootDer, root.privateKey))
    await store(tx, d.vault, 'root-ca', rootDer, root.privateKey, d.config.CA_ROOT_KEY)
    await store(tx, d.vault, 'issuing-ca', issuingDer, issuing.privateKey, d.config.CA_ISSUING_KEY)
    await d.audit.append(tx, who, {
      action: 'authority.init', target: 'authority',
      after: { root_serial: describeCertificate(rootDer).serialHex, issuing_serial: describeCertificate(issuingDer).serialHex },
    })
    return true
  })
  const issuingReissued = await ensureIssuingCa(d, who)
  const tlsIssued = await ensureTlsServer(d, who)
  return { created, issuingReissued, tlsIssued }
}

/** The issuing CA's status comes from the root: root-signed CRL and the root's OCSP answers (whole-chain checking). */
function issuingCaPointers (base: string): { crlUrl: string, ocspUrl: string, caIssuersUrl: string } {
  const u = pkiUrls(base)
  return { crlUrl: u.rootCrl, ocspUrl: u.ocsp, caIssuersUrl: u.rootCa }
}

/** What a leaf (participant or listener certificate) points at: the issuing CA's CRL, OCSP, and its certificate. */
export function leafPointers (base: string): { crlUrl: string, ocspUrl: string, caIssuersUrl: string } {
  const u = pkiUrls(base)
  return { crlUrl: u.crl, ocspUrl: u.ocsp, caIssuersUrl: u.issuingCa }
}

const samePointers = (der: Buffer, want: { crlUrl: string, ocspUrl: string, caIssuersUrl: string }): boolean => {
  const p = revocationPointers(der)
  return p.crl.length === 1 && p.crl[0] === want.crlUrl && p.ocsp.length === 1 && p.ocsp[0] === want.ocspUrl &&
    p.caIssuers.length === 1 && p.caIssuers[0] === want.caIssuersUrl
}

/**
 * Upgrade path for deployments made before the root published revocation information for the issuing CA (or
 * after DIRECTORY_ISSUER changed): when the root key is here and the issuing CA certificate does not point at the
 * root CRL and OCSP, the root re-issues it for the same key, subject Name and key identifier with a new serial.
 * Participants' certificates name that issuer and key, so they chain to either certificate and stay valid.
 */
async function ensureIssuingCa (d: Deps, who: Actor): Promise<boolean> {
  const want = issuingCaPointers(d.config.DIRECTORY_ISSUER)
  const current = await d.prisma.authorityCertificate.findFirst({ where: { kind: 'issuing-ca', active: true } })
  if (!current || samePointers(Buffer.from(current.der), want)) return false
  return d.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(7467)')
    const issuing = await tx.authorityCertificate.findFirst({ where: { kind: 'issuing-ca', active: true } })
    const rootRow = await tx.authorityCertificate.findFirst({ where: { kind: 'root-ca', active: true }, include: { key: true } })
    if (!issuing || !rootRow?.key || samePointers(Buffer.from(issuing.der), want)) return false
    const old = Buffer.from(issuing.der)
    const root = createIssuer(Buffer.from(rootRow.der), d.vault.open(rootRow.key))
    const info = describeCertificate(old)
    const parts = readCertificate(old)
    const ski = parts.extensions.get(OID.subjectKeyIdentifier)
    const now = d.clock.now()
    const notAfter = info.notAfter < root.notAfter ? info.notAfter : root.notAfter
    const der = issueCertificate({
      serial: newSerial(), subject: [], subjectDer: info.subjectDer, publicKey: info.spki,
      ...(ski ? { subjectKeyIdentifier: readKeyIdentifier(ski.value) } : {}),
      notBefore: new Date(now.getTime() - 60_000), notAfter, profile: 'issuing-ca', pathLen: 0, ...want,
    }, root)
    const serial = describeCertificate(der).serialHex
    await tx.authorityCertificate.update({ where: { id: issuing.id }, data: { active: false } })
    await tx.authorityCertificate.create({
      data: { id: randomUUID(), kind: 'issuing-ca', keyId: issuing.keyId, der: new Uint8Array(der), serial, notAfter },
    })
    await d.audit.append(tx, who, {
      action: 'authority.issuing_ca_reissue', target: 'authority',
      before: { issuing_serial: issuing.serial }, after: { issuing_serial: serial, crl_url: want.crlUrl, ocsp_url: want.ocspUrl },
    })
    await bumpRegistryVersion(tx)
    return true
  })
}

/**
 * Brings an existing CA: its issuing certificate + private key (PEM), and the root above it. The
 * key must match the certificate, and the issuing certificate must be signed by the root. With the root's key
 * too, the directory answers for the issuing CA's status itself (root CRL, OCSP) and re-issues the issuing CA
 * certificate to point there; without it, CA_ROOT_CRL_URL names where the root's owner publishes its CRL.
 */
export async function importAuthority (
  d: Deps,
  input: { issuingCertPem: string, issuingKeyPem: string, rootCertPem: string, rootKeyPem?: string | undefined }, who: Actor,
): Promise<void> {
  const issuingDer = fromPem(input.issuingCertPem, 'CERTIFICATE')[0]
  const rootDer = fromPem(input.rootCertPem, 'CERTIFICATE')[0]
  if (!issuingDer || !rootDer) throw new Error('import: expected a CERTIFICATE PEM for the issuing CA and for the root')
  const key = createPrivateKey(input.issuingKeyPem)
  const issuing = new X509Certificate(issuingDer)
  const root = new X509Certificate(rootDer)
  if (!issuing.checkPrivateKey(key)) throw new Error('import: the private key does not match the issuing CA certificate')
  if (!issuing.ca || !root.ca) throw new Error('import: both certificates must be CA certificates')
  if (!issuing.verify(root.publicKey)) throw new Error('import: the issuing CA certificate is not signed by the given root')
  const rootKey = input.rootKeyPem === undefined ? undefined : createPrivateKey(input.rootKeyPem)
  if (rootKey && !root.checkPrivateKey(rootKey)) throw new Error('import: the root private key does not match the root certificate')
  await d.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(7467)')
    if (await tx.authorityCertificate.count({ where: { kind: 'issuing-ca', active: true } }) > 0) {
      throw new Error('import: this directory already has an issuing CA')
    }
    if (rootKey) {
      await store(tx, d.vault, 'root-ca', rootDer, rootKey, keyTypeOf(rootKey))
    } else {
      // Only the root certificate is kept for the bundle; its key stays with its owner.
      await tx.authorityCertificate.create({
        data: { id: randomUUID(), kind: 'root-ca', der: new Uint8Array(rootDer), serial: describeCertificate(rootDer).serialHex, notAfter: new Date(root.validTo) },
      })
    }
    await store(tx, d.vault, 'issuing-ca', issuingDer, key, keyTypeOf(key))
    await d.audit.append(tx, who, { action: 'authority.import', target: 'authority', after: { issuing_serial: describeCertificate(issuingDer).serialHex, root_key: rootKey !== undefined } })
  })
  await ensureIssuingCa(d, who)
  await ensureTlsServer(d, who)
}

const isIp = (n: string): boolean => /^[\d.]+$/.test(n) || n.includes(':')

/**
 * The mTLS listener's certificates: one per TLS_SERVER_KEY type, covering TLS_SERVER_NAMES, CN the first
 * DNS name, with CRL distribution point and AIA like any leaf. Renewed when names, key types, issuer or pointers
 * change, or when it nears expiry.
 */
async function ensureTlsServer (d: Deps, who: Actor): Promise<boolean> {
  const names = d.config.TLS_SERVER_NAMES
  const cn = names.find((n) => !isIp(n)) ?? names[0] ?? 'localhost'
  const subject = caName(cn)
  const pointers = leafPointers(d.config.DIRECTORY_ISSUER)
  const sorted = [...names].sort()
  const want = d.config.TLS_SERVER_KEY as KeyType[]
  const upToDate = async (tx: Tx | Prisma, now: Date): Promise<boolean> => {
    const issuingRow = await tx.authorityCertificate.findFirst({ where: { kind: 'issuing-ca', active: true } })
    if (!issuingRow) throw new Error('no issuing CA: run init')
    const issuingSubject = describeCertificate(Buffer.from(issuingRow.der)).subjectDer
    const current = await tx.authorityCertificate.findMany({ where: { kind: 'tls-server', active: true } })
    const fits = (der: Buffer, type: KeyType): boolean => {
      const x = new X509Certificate(der)
      const info = describeCertificate(der)
      const have = (x.subjectAltName ?? '').split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '')).sort()
      return info.notAfter.getTime() - now.getTime() > 30 * day && JSON.stringify(have) === JSON.stringify(sorted) &&
        keyTypeOf(x.publicKey) === type && info.issuerDer.equals(issuingSubject) &&
        JSON.stringify(info.subject) === JSON.stringify(subject) && samePointers(der, pointers)
    }
    return current.length === want.length && want.every((type) => current.some((c) => fits(Buffer.from(c.der), type)))
  }
  if (await upToDate(d.prisma, d.clock.now())) return false
  // Keys before the transaction: RSA generation can outlast its deadline on a busy host.
  const keys = want.map((type) => ({ type, key: generateKeyPair(type) }))
  return d.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(7467)')
    const now = d.clock.now()
    if (await upToDate(tx, now)) return false
    const material = await loadIssuer(tx, d.vault)
    const serials: string[] = []
    await tx.authorityCertificate.updateMany({ where: { kind: 'tls-server', active: true }, data: { active: false } })
    for (const { type, key } of keys) {
      const der = issueCertificate({
        serial: newSerial(), subject, publicKey: spkiOf(key.publicKey),
        notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 397 * day), profile: 'tls-server',
        dnsNames: names.filter((n) => !isIp(n)), ipAddresses: names.filter(isIp), ...pointers,
      }, material)
      await store(tx, d.vault, 'tls-server', der, key.privateKey, type)
      serials.push(describeCertificate(der).serialHex)
    }
    await d.audit.append(tx, who, { action: 'authority.tls_server_certificate', target: 'authority', after: { serials, names, key_types: want } })
    return true
  })
}

async function loadIssuer (tx: Tx | Prisma, vault: KeyVault): Promise<Issuer> {
  const row = await tx.authorityCertificate.findFirst({ where: { kind: 'issuing-ca', active: true }, include: { key: true } })
  if (!row?.key) throw new Error('no issuing CA: run init')
  return createIssuer(Buffer.from(row.der), vault.open(row.key))
}

/** Decrypts what the running directory needs: the issuing key, the root key if held, the chain, the TLS server keys. */
export async function loadAuthority (prisma: Prisma, vault: KeyVault): Promise<AuthorityMaterial> {
  const rows = await prisma.authorityCertificate.findMany({ where: { active: true, kind: { in: ['root-ca', 'issuing-ca', 'tls-server'] } }, include: { key: true }, orderBy: { createdAt: 'asc' } })
  const by = (kind: string) => {
    const r = rows.find((x) => x.kind === kind)
    if (!r) throw new Error(`no ${kind} certificate: run init`)
    return r
  }
  const keyOf = (r: typeof rows[number]) => {
    if (!r.key) throw new Error(`no key for the ${r.kind} certificate`)
    return vault.open(r.key)
  }
  const root = by('root-ca')
  const issuing = by('issuing-ca')
  by('tls-server')
  const issuingDer = Buffer.from(issuing.der)
  const rootDer = Buffer.from(root.der)
  return {
    rootDer,
    ...(root.key ? { root: createIssuer(rootDer, keyOf(root)) } : {}),
    issuingDer,
    issuer: createIssuer(issuingDer, keyOf(issuing)),
    tls: rows.filter((r) => r.kind === 'tls-server').map((tls) => ({
      keyPem: keyOf(tls).export({ format: 'pem', type: 'pkcs8' }) as string,
      certPem: toPem(Buffer.from(tls.der), 'CERTIFICATE'),
    })),
  }
}
