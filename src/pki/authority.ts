import type { Actor, AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Prisma } from '../db/database.js'
import type { Sql } from '../db/sql.js'
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../errors.js'
import { eventsFor } from '../events/types.js'
import { leafPointers, type AuthorityMaterial } from './ca-store.js'
import { issueCertificate, newSerial, x5tS256 } from './certificate.js'
import { buildCrl } from './crl.js'
import { parseCsr } from './csr.js'
import { buildOcspResponse, matchesIssuer, ocspErrorResponse, OcspMalformed, parseOcspRequest } from './ocsp.js'
import type { OcspCache, PreparedOcspResponse } from './ocsp-cache.js'
import { toPem } from './pem.js'
import type { RevocationReason } from './reasons.js'
import { revokeCertificates } from './revocation.js'
import { certificateSubject, loadSubjectFacts } from './subject-profiles.js'

export type CertificateType = 'transport' | 'signing'

/** An OCSP response; `prepared` when it was produced ahead of the request and may be cached (RFC 5019 §6.2). */
export interface OcspAnswer { der: Buffer, prepared?: PreparedOcspResponse }

export interface IssueRequest {
  orgId: string
  /** The software statement the certificate belongs to; absent for an organisation's enrolment certificate. */
  softwareId?: string | undefined
  /** Subject UID/CN when there is no software statement (the client id at enrolment). */
  subjectId?: string | undefined
  type: CertificateType
  /** The participant's CSR; or, for the directory's own operator credentials only, a public key (SPKI DER). */
  csr: string | Buffer | { spki: Buffer }
  /** DNS names for a transport certificate that may also serve TLS (data holders only). */
  dnsNames?: string[] | undefined
}

export interface IssuedCertificate {
  serial: string
  type: CertificateType
  certificate: string
  chain: string[]
  'x5t#S256': string
  not_before: Date
  not_after: Date
  status: 'active' | 'revoked'
}

// A fully qualified host name, or `localhost` (development servers); never a wildcard or an IP.
const hostname = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$|^localhost$/

/**
 * The certificate authority's rules in one place (DESIGN.md §4): the subject comes from the registry,
 * never from the CSR; every issuance and revocation is stored with its audit event in one transaction;
 * CRL and OCSP answer from the same store.
 */
export class CertificateAuthority {
  private readonly chainDer: Buffer[]
  private readonly bundle: string

  constructor (
    private readonly d: {
      prisma: Prisma, sql: Sql, audit: AuditLog, clock: Clock, config: Pick<Config, 'DIRECTORY_ISSUER' | 'CERT_VALIDITY_DAYS' | 'CRL_VALIDITY_SECONDS' | 'CERTIFICATE_PROFILE'>
      /** Pre-produced OCSP responses; without it every request is answered afresh. */
      ocspCache?: OcspCache
    },
    readonly material: AuthorityMaterial,
  ) {
    this.chainDer = [material.issuingDer]
    this.bundle = toPem(material.issuingDer, 'CERTIFICATE') + toPem(material.rootDer, 'CERTIFICATE')
  }

  /** Issuing CA then root, PEM: what /pki/ca.pem serves and TLS peers trust. */
  caBundlePem (): string { return this.bundle }
  /** The certificates that follow a leaf in x5c and in `chain` answers. */
  chain (): Buffer[] { return this.chainDer }
  /** The issuing CA and root certificates, DER: what AIA caIssuers points at (RFC 5280 §4.2.2.1). */
  issuingCaDer (): Buffer { return this.material.issuingDer }
  rootCaDer (): Buffer { return this.material.rootDer }
  /** Whether this directory holds the root key, so it signs the root CRL and answers OCSP about the issuing CA. */
  hasRootKey (): boolean { return this.material.root !== undefined }

  async issue (req: IssueRequest, who: Actor): Promise<IssuedCertificate> {
    const spki = typeof req.csr === 'object' && 'spki' in req.csr ? req.csr.spki : parseCsr(req.csr).spki
    // One round trip: the organisation, whether it holds the active data-holder role, and the software.
    const [org] = await this.d.sql.query<{ id: string, legal_name: string, country: string, status: string, data_holder: boolean, software_status: string | null }>(
      `SELECT o.id, o.legal_name, o.country, o.status::text AS status,
              EXISTS (SELECT 1 FROM organisation_roles r WHERE r.organisation_id = o.id AND r.role = 'data-holder' AND r.status = 'active') AS data_holder,
              (SELECT s.status::text FROM software_statements s WHERE s.id = $2::uuid AND s.organisation_id = o.id) AS software_status
         FROM organisations o WHERE o.id = $1::uuid`, [req.orgId, req.softwareId ?? null], 'issue_subject')
    if (!org) throw NotFound(`no organisation ${req.orgId}`)
    if (org.status !== 'active' && org.status !== 'pending') throw Forbidden(`the organisation is ${org.status}: no certificates are issued`)
    let subjectId = req.subjectId
    if (req.softwareId) {
      if (!org.software_status) throw NotFound(`no software statement ${req.softwareId} in organisation ${req.orgId}`)
      if (org.software_status !== 'active') throw Forbidden(`the software statement is ${org.software_status}: no certificates are issued`)
      subjectId = req.softwareId
    }
    if (!subjectId) throw new Error('issue: a software id or subject id is required')
    const dnsNames = (req.dnsNames ?? []).map((n) => n.toLowerCase())
    if (dnsNames.length > 0) {
      if (req.type !== 'transport') throw ValidationFailed([{ path: 'body.dns_names', message: 'only transport certificates carry DNS names' }])
      const bad = dnsNames.filter((n) => !hostname.test(n))
      if (bad.length) throw ValidationFailed(bad.map((n) => ({ path: 'body.dns_names', message: `${n} is not a DNS host name (no wildcards)` })))
      if (!org.data_holder) {
        throw Forbidden('server authentication (DNS names) is only for organisations with the active data-holder role')
      }
    }
    // The subject follows the ecosystem's certificate profile, always from the registry (src/pki/subject-profiles.ts).
    const profile = this.d.config.CERTIFICATE_PROFILE
    const { subject, dnsNames: implied } = profile === 'native'
      ? certificateSubject('native', { orgId: org.id, legalName: org.legal_name, country: org.country, registrationNumber: '', subjectId, organisationType: null, authorityClaims: [] }, req.type)
      : certificateSubject(profile, await loadSubjectFacts(this.d.prisma, org.id, req.softwareId, subjectId), req.type)
    // Whole seconds, as the certificate carries them (RFC 5280 §4.1.2.5), so what is stored is what was signed
    // without reading the certificate back.
    const now = Math.floor(this.d.clock.now().getTime() / 1000) * 1000
    const { DIRECTORY_ISSUER: base } = this.d.config
    const serial = newSerial()
    const info = {
      serialHex: serial.toString('hex'),
      // Back-dated a minute for relying parties whose clocks run slightly behind.
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + this.d.config.CERT_VALIDITY_DAYS * 86_400_000),
    }
    const der = issueCertificate({
      serial, subject, publicKey: spki, notBefore: info.notBefore, notAfter: info.notAfter,
      profile: req.type, dnsNames: [...new Set([...dnsNames, ...implied])], serverAuth: dnsNames.length > 0,
      ...leafPointers(base),
    }, this.material.issuer)
    const thumbprint = x5tS256(der)
    // The certificate, its audit event, its outbox event and the registry version in one statement (one
    // round trip, one implicit transaction): the locks are taken in the order every other change takes them.
    const entry = {
      action: 'certificate.issue', target: `certificate:${info.serialHex}`,
      after: { type: req.type, org_id: org.id, software_id: req.softwareId ?? null, subject_id: subjectId, 'x5t#S256': thumbprint, not_after: info.notAfter, dns_names: dnsNames },
    }
    const events = await eventsFor(this.d.prisma, entry) // certificate.issue reads nothing
    const change = this.d.audit.appendCall(who, entry, 9, events)
    await this.d.sql.query(
      `WITH cert AS (
         INSERT INTO certificates (serial, type, organisation_id, software_statement_id, der, x5t_s256, not_before, not_after)
         VALUES ($1, $2::"CertificateType", $3::uuid, $4::uuid, $5, $6, $7, $8) RETURNING serial)
       SELECT ${change.sql}, registry_bump() FROM cert`,
      [info.serialHex, req.type, org.id, req.softwareId ?? null, der, thumbprint, info.notBefore, info.notAfter, ...change.values],
      `issue_certificate_${events.length}`)
    return {
      serial: info.serialHex, type: req.type, certificate: toPem(der, 'CERTIFICATE'),
      chain: this.chainDer.map((c) => toPem(c, 'CERTIFICATE')), 'x5t#S256': thumbprint,
      not_before: info.notBefore, not_after: info.notAfter, status: 'active',
    }
  }

  /** Revokes one certificate; `orgId` limits it to that organisation's certificates (participants). */
  async revoke (serial: string, reason: RevocationReason, who: Actor, orgId?: string): Promise<IssuedCertificate> {
    // Serials are stored as the lowercase hex of their exact DER bytes (leading zeros are significant).
    const normalized = serial.toLowerCase()
    const revoked = await this.d.prisma.$transaction(async (tx) => {
      const cert = await tx.certificate.findUnique({ where: { serial: normalized } })
      if (!cert || (orgId && cert.organisationId !== orgId)) throw NotFound(`no certificate ${serial}`)
      if (cert.status === 'revoked') throw Conflict(`certificate ${serial} is already revoked`)
      await revokeCertificates(tx, this.d, { serial: normalized }, reason, who)
      const row = await tx.certificate.findUniqueOrThrow({ where: { serial: normalized } })
      return this.view(row)
    })
    // Other instances learn it from the registry version; this one forgets its prepared responses at once.
    this.d.ocspCache?.forget(normalized)
    return revoked
  }

  view (c: { serial: string, type: string, der: Uint8Array, x5tS256: string, notBefore: Date, notAfter: Date, status: string }): IssuedCertificate {
    return {
      serial: c.serial, type: c.type as CertificateType, certificate: toPem(Buffer.from(c.der), 'CERTIFICATE'),
      chain: this.chainDer.map((d) => toPem(d, 'CERTIFICATE')), 'x5t#S256': c.x5tS256,
      not_before: c.notBefore, not_after: c.notAfter, status: c.status as 'active' | 'revoked',
    }
  }

  async list (orgId: string): Promise<Array<IssuedCertificate & { software_id: string | null, revoked_at?: Date, revocation_reason?: RevocationReason }>> {
    const rows = await this.d.prisma.certificate.findMany({ where: { organisationId: orgId }, orderBy: { createdAt: 'asc' } })
    return rows.map((r) => ({
      ...this.view(r), software_id: r.softwareStatementId,
      ...(r.revokedAt ? { revoked_at: r.revokedAt } : {}), ...(r.revocationReason ? { revocation_reason: r.revocationReason as RevocationReason } : {}),
    }))
  }

  /** A fresh CRL (RFC 5280 §5): every revoked certificate still within its validity, a new CRL number. */
  async crl (): Promise<{ der: Buffer, nextUpdate: Date }> {
    const now = this.d.clock.now()
    const revoked = await this.d.prisma.certificate.findMany({
      where: { status: 'revoked', notAfter: { gt: now } }, select: { serial: true, revokedAt: true, revocationReason: true }, orderBy: { revokedAt: 'asc' },
    })
    const [{ value }] = await this.d.prisma.$queryRawUnsafe<Array<{ value: bigint }>>(
      "INSERT INTO counters (name, value) VALUES ('crl', 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value") as [{ value: bigint }]
    const nextUpdate = new Date(now.getTime() + this.d.config.CRL_VALIDITY_SECONDS * 1000)
    const der = buildCrl({
      issuer: this.material.issuer, crlNumber: BigInt(value), thisUpdate: now, nextUpdate,
      entries: revoked.map((r) => ({ serial: r.serial, revokedAt: r.revokedAt!, ...(r.revocationReason ? { reason: r.revocationReason as RevocationReason } : {}) })),
    })
    return { der, nextUpdate }
  }

  /**
   * The root's CRL (RFC 5280 §5) about the CA certificates it issued: what a verifier checking the whole chain
   * fetches from the issuing CA certificate's distribution point. None is ever revoked by the directory, so the
   * list is empty but signed and current. Undefined when the root key is not held here.
   */
  async rootCrl (): Promise<{ der: Buffer, nextUpdate: Date } | undefined> {
    const root = this.material.root
    if (root === undefined) return undefined
    const now = this.d.clock.now()
    const [{ value }] = await this.d.prisma.$queryRawUnsafe<Array<{ value: bigint }>>(
      "INSERT INTO counters (name, value) VALUES ('root-crl', 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value") as [{ value: bigint }]
    const nextUpdate = new Date(now.getTime() + this.d.config.CRL_VALIDITY_SECONDS * 1000)
    return { der: buildCrl({ issuer: root, crlNumber: BigInt(value), thisUpdate: now, nextUpdate, entries: [] }), nextUpdate }
  }

  /**
   * RFC 6960 responder for both levels of the chain: good, revoked (time, reason) or unknown for each certID; the
   * nonce is echoed. The CertIDs' issuer hashes choose the signer: the issuing CA for participant and listener
   * certificates, the root for issuing CA certificates. A request about any other issuer, or mixing issuers, is
   * `unauthorized` (RFC 5019 §2.2.3): we are not its responder. The signer's certificate travels in the response.
   */
  async ocsp (request: Buffer): Promise<OcspAnswer> {
    // RFC 5019: a request about one certificate without a nonce is answered with a response produced ahead of
    // it, from memory, byte for byte the same until it is refreshed (src/pki/ocsp-cache.ts).
    const cache = this.d.ocspCache
    const key = request.length > 0 && request.length <= 1024 ? request.toString('base64') : undefined
    let version: bigint | undefined
    if (cache && key) {
      version = await cache.current()
      const hit = version === undefined ? undefined : cache.get(key, this.d.clock.now())
      if (hit) return { der: hit.der, prepared: hit }
    }
    let parsed: ReturnType<typeof parseOcspRequest>
    try {
      parsed = parseOcspRequest(request)
    } catch (e) {
      if (e instanceof OcspMalformed) return { der: ocspErrorResponse('malformedRequest') }
      throw e
    }
    if (parsed.requests.length === 0 || parsed.requests.length > 20) return { der: ocspErrorResponse('malformedRequest') }
    const now = this.d.clock.now()
    const { issuer, root } = this.material
    let responder: typeof issuer
    let rows: Array<{ serial: string, status: string, revokedAt: Date | null, revocationReason: string | null, participant: boolean }>
    const serials = parsed.requests.map((r) => r.serialHex)
    if (parsed.requests.every((r) => matchesIssuer(r, issuer))) {
      responder = issuer
      rows = [
        ...(await this.d.sql.query<{ serial: string, status: string, revokedAt: Date | null, revocationReason: string | null }>(
          `SELECT serial, status::text AS status, revoked_at AS "revokedAt", revocation_reason AS "revocationReason"
             FROM certificates WHERE serial = ANY($1::text[])`, [serials], 'ocsp_status')).map((r) => ({ ...r, participant: true })),
        // the listener's own certificates are issued by the issuing CA too, and never revoked
        ...(await this.d.prisma.authorityCertificate.findMany({ where: { serial: { in: serials }, kind: 'tls-server' }, select: { serial: true } }))
          .map((r) => ({ serial: r.serial, status: 'active', revokedAt: null, revocationReason: null, participant: false })),
      ]
    } else if (root !== undefined && parsed.requests.every((r) => matchesIssuer(r, root))) {
      responder = root
      rows = (await this.d.prisma.authorityCertificate.findMany({ where: { serial: { in: serials }, kind: 'issuing-ca' }, select: { serial: true } }))
        .map((r) => ({ serial: r.serial, status: 'active', revokedAt: null, revocationReason: null, participant: false }))
    } else {
      return { der: ocspErrorResponse('unauthorized') }
    }
    const bySerial = new Map(rows.map((r) => [r.serial, r]))
    const nextUpdate = new Date(now.getTime() + 3600_000)
    const responses = parsed.requests.map((r) => {
      const row = bySerial.get(r.serialHex)
      const status = !row
        ? 'unknown' as const
        : row.status === 'revoked'
          ? { revokedAt: row.revokedAt!, ...(row.revocationReason ? { reason: row.revocationReason as RevocationReason } : {}) }
          : 'good' as const
      return { certIdDer: r.certIdDer, status, thisUpdate: now, nextUpdate }
    })
    const der = buildOcspResponse({
      responder, producedAt: now, responses, includeCertificates: [responder.certificate], ...(parsed.nonce ? { nonce: parsed.nonce } : {}),
    })
    const only = parsed.requests.length === 1 ? bySerial.get(parsed.requests[0]!.serialHex) : undefined
    if (cache && key && version !== undefined && only && !parsed.nonce) {
      const prepared = cache.put(key, { der, thisUpdate: now, nextUpdate }, {
        serial: only.participant ? only.serial : undefined, status: only.status === 'revoked' ? 'revoked' : 'good', version,
      })
      return { der, prepared }
    }
    return { der }
  }
}
