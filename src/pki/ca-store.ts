import { createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto'
import type { Actor, AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Prisma, Tx } from '../db/database.js'
import type { KeyVault } from '../keys/vault.js'
import { createIssuer, describeCertificate, issueCertificate, newSerial, type Issuer, type NameAttribute } from './certificate.js'
import { generateKeyPair, keyTypeOf, spkiOf, type KeyType } from './keys.js'
import { fromPem, toPem } from './pem.js'

/** The directory's own PKI material, decrypted in memory for the life of the process. */
export interface AuthorityMaterial {
  rootDer: Buffer
  issuer: Issuer
  issuingDer: Buffer
  tls: { keyPem: string, certPem: string }
}

const day = 24 * 3600 * 1000
const caName = (cn: string): NameAttribute[] => [{ type: 'O', value: 'Ecosystem Directory' }, { type: 'CN', value: cn }]

type CaConfig = Pick<Config, 'CA_ROOT_KEY' | 'CA_ISSUING_KEY' | 'TLS_SERVER_NAMES' | 'DIRECTORY_ISSUER'>

async function store (tx: Tx, vault: KeyVault, kind: string, der: Buffer, key: KeyObject, keyType: string): Promise<void> {
  const sealed = vault.seal(key, kind, keyType)
  await tx.encryptedKey.create({ data: sealed })
  const info = describeCertificate(der)
  await tx.authorityCertificate.create({
    data: { id: randomUUID(), kind, keyId: sealed.id, der: new Uint8Array(der), serial: info.serialHex, notAfter: info.notAfter },
  })
}

/**
 * `init`: creates the root CA and the issuing CA (idempotent: a second run changes nothing and says
 * so), then makes sure the mTLS listener has a server certificate for the configured names.
 */
export async function initAuthority (
  d: { prisma: Prisma, vault: KeyVault, audit: AuditLog, clock: Clock, config: CaConfig }, who: Actor,
): Promise<{ created: boolean, tlsIssued: boolean }> {
  const created = await d.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(7467)')
    if (await tx.authorityCertificate.count({ where: { kind: 'issuing-ca', active: true } }) > 0) return false
    const now = d.clock.now()
    const notBefore = new Date(now.getTime() - 60_000)
    const root = generateKeyPair(d.config.CA_ROOT_KEY as KeyType)
    const rootDer = issueCertificate({
      serial: newSerial(), subject: caName('Ecosystem Directory Root CA'), publicKey: spkiOf(root.publicKey),
      notBefore, notAfter: new Date(now.getTime() + 20 * 365 * day), profile: 'root-ca',
    }, { selfSigned: root.privateKey })
    const issuing = generateKeyPair(d.config.CA_ISSUING_KEY as KeyType)
    const issuingDer = issueCertificate({
      serial: newSerial(), subject: caName('Ecosystem Directory Issuing CA'), publicKey: spkiOf(issuing.publicKey),
      notBefore, notAfter: new Date(now.getTime() + 10 * 365 * day), profile: 'issuing-ca', pathLen: 0,
      crlUrl: `${d.config.DIRECTORY_ISSUER}/pki/crl`,
    }, createIssuer(rootDer, root.privateKey))
    await store(tx, d.vault, 'root-ca', rootDer, root.privateKey, d.config.CA_ROOT_KEY)
    await store(tx, d.vault, 'issuing-ca', issuingDer, issuing.privateKey, d.config.CA_ISSUING_KEY)
    await d.audit.append(tx, who, {
      action: 'authority.init', target: 'authority',
      after: { root_serial: describeCertificate(rootDer).serialHex, issuing_serial: describeCertificate(issuingDer).serialHex },
    })
    return true
  })
  const tlsIssued = await ensureTlsServer(d, who)
  return { created, tlsIssued }
}

/**
 * Brings an existing CA: its issuing certificate + private key (PEM), and the root above it. The
 * key must match the certificate, and the issuing certificate must be signed by the root.
 */
export async function importAuthority (
  d: { prisma: Prisma, vault: KeyVault, audit: AuditLog, clock: Clock, config: CaConfig },
  input: { issuingCertPem: string, issuingKeyPem: string, rootCertPem: string }, who: Actor,
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
  await d.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(7467)')
    if (await tx.authorityCertificate.count({ where: { kind: 'issuing-ca', active: true } }) > 0) {
      throw new Error('import: this directory already has an issuing CA')
    }
    // Only the root certificate is kept for the bundle; its key stays with its owner.
    await tx.authorityCertificate.create({
      data: { id: randomUUID(), kind: 'root-ca', der: new Uint8Array(rootDer), serial: describeCertificate(rootDer).serialHex, notAfter: new Date(root.validTo) },
    })
    await store(tx, d.vault, 'issuing-ca', issuingDer, key, keyTypeOf(key))
    await d.audit.append(tx, who, { action: 'authority.import', target: 'authority', after: { issuing_serial: describeCertificate(issuingDer).serialHex } })
  })
  await ensureTlsServer(d, who)
}

/** A TLS server certificate covering TLS_SERVER_NAMES, renewed when the names change or it nears expiry. */
async function ensureTlsServer (d: { prisma: Prisma, vault: KeyVault, audit: AuditLog, clock: Clock, config: CaConfig }, who: Actor): Promise<boolean> {
  const names = [...d.config.TLS_SERVER_NAMES].sort()
  return d.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(7467)')
    const now = d.clock.now()
    const current = await tx.authorityCertificate.findFirst({ where: { kind: 'tls-server', active: true } })
    if (current && current.notAfter.getTime() - now.getTime() > 30 * day) {
      const san = new X509Certificate(Buffer.from(current.der)).subjectAltName ?? ''
      const have = san.split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '')).sort()
      if (JSON.stringify(have) === JSON.stringify(names)) return false
    }
    const material = await loadIssuer(tx, d.vault)
    const key = generateKeyPair('ec-p256')
    const ip = (n: string): boolean => /^[\d.]+$/.test(n) || n.includes(':')
    const der = issueCertificate({
      serial: newSerial(), subject: caName(names[0] ?? 'localhost'), publicKey: spkiOf(key.publicKey),
      notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 397 * day), profile: 'tls-server',
      dnsNames: names.filter((n) => !ip(n)), ipAddresses: names.filter(ip),
    }, material)
    if (current) await tx.authorityCertificate.update({ where: { id: current.id }, data: { active: false } })
    await store(tx, d.vault, 'tls-server', der, key.privateKey, 'ec-p256')
    await d.audit.append(tx, who, { action: 'authority.tls_server_certificate', target: 'authority', after: { serial: describeCertificate(der).serialHex, names } })
    return true
  })
}

async function loadIssuer (tx: Tx | Prisma, vault: KeyVault): Promise<Issuer> {
  const row = await tx.authorityCertificate.findFirst({ where: { kind: 'issuing-ca', active: true }, include: { key: true } })
  if (!row?.key) throw new Error('no issuing CA: run init')
  return createIssuer(Buffer.from(row.der), vault.open(row.key))
}

/** Decrypts what the running directory needs: the issuing key, the chain, the TLS server key. */
export async function loadAuthority (prisma: Prisma, vault: KeyVault): Promise<AuthorityMaterial> {
  const rows = await prisma.authorityCertificate.findMany({ where: { active: true, kind: { in: ['root-ca', 'issuing-ca', 'tls-server'] } }, include: { key: true } })
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
  const tls = by('tls-server')
  const issuingDer = Buffer.from(issuing.der)
  return {
    rootDer: Buffer.from(root.der),
    issuingDer,
    issuer: createIssuer(issuingDer, keyOf(issuing)),
    tls: {
      keyPem: keyOf(tls).export({ format: 'pem', type: 'pkcs8' }) as string,
      certPem: toPem(Buffer.from(tls.der), 'CERTIFICATE'),
    },
  }
}
