// OCSP (RFC 6960): request parsing, issuer matching, BasicOCSPResponse building.
import { createHash } from 'node:crypto'
import {
  Asn1Error, Tag, checkDer, children, content, enumerated, expect, explicit, fromDer, generalizedTime, implicit, is,
  octetString, oid, parse, readInteger, readOid, seq, strictDer, toDer, type Asn1,
} from './der.js'
import { prepareIssuer, signed, template, type Issuer } from './issuer.js'
import { OID } from './oids.js'
import { reasonCode, type RevocationReason } from './reasons.js'

export class OcspMalformed extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'OcspMalformed'
  }
}

export type OcspHash = 'sha1' | 'sha256' | 'sha384' | 'sha512'

export interface CertId {
  hashAlgorithm: OcspHash
  issuerNameHash: Buffer
  issuerKeyHash: Buffer
  /** Lowercase hex of the serialNumber INTEGER content octets (same form as describeCertificate). */
  serialHex: string
  /** The CertID exactly as requested, to be echoed in the SingleResponse. */
  certIdDer: Buffer
}

export interface OcspRequest {
  requests: CertId[]
  /**
   * The id-pkix-ocsp-nonce extnValue contents as received (normally the DER of Nonce ::= OCTET STRING,
   * RFC 8954 §2.1), so that buildOcspResponse echoes it byte for byte.
   */
  nonce?: Buffer
}

const hashes: Record<string, [OcspHash, number]> = {
  [OID['id-sha1']]: ['sha1', 20],
  [OID['id-sha256']]: ['sha256', 32],
  [OID['id-sha384']]: ['sha384', 48],
  [OID['id-sha512']]: ['sha512', 64],
}

export function parseOcspRequest (der: Buffer): OcspRequest {
  try {
    return readRequest(der)
  } catch (e) {
    if (e instanceof Asn1Error) throw new OcspMalformed(`malformed OCSP request: ${e.message}`)
    throw e
  }
}

function readRequest (der: Buffer): OcspRequest {
  // The request must be DER: its CertIDs are echoed byte for byte in what we sign.
  const { node: top, trailing } = parse(der)
  if (trailing !== 0) throw new OcspMalformed(`malformed OCSP request: trailing data after the request (${trailing} bytes)`)
  checkDer(top, der)
  // OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL } (§4.1.1)
  const [tbs, sig, ...extra] = children(expect(top, Tag.SEQUENCE, 'OCSPRequest'))
  if (tbs === undefined || extra.length > 0 || (sig !== undefined && !is(sig, 0xa0))) throw new OcspMalformed('malformed OCSP request')
  // TBSRequest ::= SEQUENCE { version [0] DEFAULT v1, requestorName [1] OPTIONAL, requestList, requestExtensions [2] OPTIONAL }
  const fields = children(expect(tbs, Tag.SEQUENCE, 'TBSRequest'))
  let i = 0
  if (is(fields[i], 0xa0)) {
    const [v] = children(fields[i++]!)
    if (v === undefined || !readInteger(v).equals(Buffer.from([0]))) throw new OcspMalformed('unsupported OCSP request version')
  }
  if (is(fields[i], 0xa1)) i++
  const list = fields[i++]
  if (list === undefined) throw new OcspMalformed('OCSP request without a requestList')
  const requests = children(expect(list, Tag.SEQUENCE, 'requestList')).map(readSingleRequest)
  if (requests.length === 0) throw new OcspMalformed('empty OCSP requestList')

  let nonce: Buffer | undefined
  const exts = fields[i]
  if (exts !== undefined) {
    if (!is(exts, 0xa2) || i + 1 !== fields.length) throw new OcspMalformed('malformed TBSRequest')
    const [list] = children(exts)
    for (const ext of list === undefined ? [] : children(expect(list, Tag.SEQUENCE, 'Extensions'))) {
      const f = children(expect(ext, Tag.SEQUENCE, 'Extension'))
      const id = f[0]
      const value = f[f.length - 1]
      if (id === undefined || value === undefined || f.length < 2) throw new OcspMalformed('malformed request extension')
      if (readOid(id) === OID['id-pkix-ocsp-nonce']) nonce = checkNonce(content(expect(value, Tag.OCTET_STRING, 'extnValue')))
    }
  }
  return nonce === undefined ? { requests } : { requests, nonce }
}

/** RFC 8954 §2.1: Nonce ::= OCTET STRING (SIZE(1..32)); longer nonces are refused. */
function checkNonce (extnValue: Buffer): Buffer {
  let length = extnValue.length
  if (extnValue[0] === Tag.OCTET_STRING) {
    try {
      const inner = fromDer(extnValue)
      if (is(inner, Tag.OCTET_STRING)) length = content(inner).length
    } catch { /* a bare nonce from an older client: judge it by its own length */ }
  }
  if (length < 1 || length > 32) throw new OcspMalformed(`OCSP nonce of ${length} octets (RFC 8954 allows 1 to 32)`)
  return extnValue
}

function readSingleRequest (req: Asn1): CertId {
  // Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
  const [certId, exts, ...extra] = children(expect(req, Tag.SEQUENCE, 'Request'))
  if (certId === undefined || extra.length > 0 || (exts !== undefined && !is(exts, 0xa0))) throw new OcspMalformed('malformed Request')
  // CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash OCTET STRING, issuerKeyHash OCTET STRING, serialNumber }
  const [alg, nameHash, keyHash, serial, ...more] = children(expect(certId, Tag.SEQUENCE, 'CertID'))
  if (alg === undefined || nameHash === undefined || keyHash === undefined || serial === undefined || more.length > 0) {
    throw new OcspMalformed('malformed CertID')
  }
  const [algOid, params, ...rest] = children(expect(alg, Tag.SEQUENCE, 'hashAlgorithm'))
  if (algOid === undefined || rest.length > 0 || (params !== undefined && !is(params, Tag.NULL))) throw new OcspMalformed('malformed hashAlgorithm')
  const id = readOid(algOid)
  const h = hashes[id]
  if (h === undefined) throw new OcspMalformed(`unsupported CertID hash algorithm ${id}`)
  const issuerNameHash = content(expect(nameHash, Tag.OCTET_STRING, 'issuerNameHash'))
  const issuerKeyHash = content(expect(keyHash, Tag.OCTET_STRING, 'issuerKeyHash'))
  if (issuerNameHash.length !== h[1] || issuerKeyHash.length !== h[1]) throw new OcspMalformed(`CertID hashes are not ${h[0]} length`)
  const s = readInteger(serial)
  if ((s[0]! & 0x80) !== 0) throw new OcspMalformed('negative serial number')
  return {
    hashAlgorithm: h[0],
    issuerNameHash,
    issuerKeyHash,
    serialHex: s.toString('hex'),
    certIdDer: toDer(certId),
  }
}

/**
 * Whether a CertID names `issuer`: issuerNameHash is the hash of the issuer's Name DER, issuerKeyHash the hash of
 * its subjectPublicKey BIT STRING value (RFC 6960 §4.1.1). The issuer's hashes are computed once per algorithm.
 */
export function matchesIssuer (certId: Pick<CertId, 'hashAlgorithm' | 'issuerNameHash' | 'issuerKeyHash'>, issuer: Issuer): boolean {
  const p = prepareIssuer(issuer)
  const alg = certId.hashAlgorithm
  if (hashes[OID[`id-${alg}`]] === undefined) return false
  const name = template<Buffer>(p, `ocsp-name-${alg}`, () => createHash(alg).update(p.name).digest())
  const key = template<Buffer>(p, `ocsp-key-${alg}`, () => createHash(alg).update(p.subjectPublicKey).digest())
  return name.equals(certId.issuerNameHash) && key.equals(certId.issuerKeyHash)
}

export type OcspCertStatus = 'good' | 'unknown' | { revokedAt: Date, reason?: RevocationReason }

export interface OcspResponseInput {
  /** The CA itself or a delegated responder holding an ocsp-signing certificate from it (RFC 6960 §4.2.2.2). */
  responder: Issuer
  producedAt: Date
  responses: Array<{ certIdDer: Buffer, status: OcspCertStatus, thisUpdate: Date, nextUpdate?: Date }>
  /** Echoed as the id-pkix-ocsp-nonce extnValue contents (pass OcspRequest.nonce). */
  nonce?: Buffer
  /** Certificates for the certs field, e.g. a delegated responder's certificate. */
  includeCertificates?: Buffer[]
}

const GOOD = implicit(0, '') // good [0] IMPLICIT NULL
const UNKNOWN = implicit(2, '') // unknown [2] IMPLICIT UnknownInfo (NULL)
const basicType = oid(OID['id-pkix-ocsp-basic'])
const successful = enumerated(0)

function certStatus (s: OcspCertStatus): Asn1 {
  if (s === 'good') return GOOD
  if (s === 'unknown') return UNKNOWN
  // revoked [1] IMPLICIT RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
  // reason omitted for unspecified, as in the CRL (RFC 5280 §5.3.1)
  const reason = s.reason === undefined || s.reason === 'unspecified' ? [] : [explicit(0, enumerated(reasonCode(s.reason)))]
  return explicit(1, generalizedTime(s.revokedAt), ...reason)
}

export function buildOcspResponse (input: OcspResponseInput): Buffer {
  const r = prepareIssuer(input.responder)
  const single = input.responses.map((s) => {
    let certId: Asn1
    try {
      certId = expect(strictDer(s.certIdDer), Tag.SEQUENCE, 'CertID')
    } catch {
      throw new RangeError('certIdDer is not a CertID')
    }
    // SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate, nextUpdate [0] EXPLICIT OPTIONAL, ... }
    return seq(certId, certStatus(s.status), generalizedTime(s.thisUpdate),
      ...(s.nextUpdate === undefined ? [] : [explicit(0, generalizedTime(s.nextUpdate))]))
  })
  const exts = input.nonce === undefined
    ? []
    : [explicit(1, seq(seq(oid(OID['id-pkix-ocsp-nonce']), octetString(input.nonce))))]
  // ResponseData ::= SEQUENCE { version [0] DEFAULT v1 (omitted), responderID, producedAt, responses, responseExtensions [1] }
  // ResponderID byKey [2] KeyHash: SHA-1 of the responder's subjectPublicKey value (§4.2.1)
  const tbs = seq(
    explicit(2, octetString(r.keyHash)),
    generalizedTime(input.producedAt),
    seq(...single),
    ...exts,
  )
  const certs = input.includeCertificates !== undefined && input.includeCertificates.length > 0
    ? [explicit(0, seq(...input.includeCertificates.map(certificateNode)))]
    : []
  // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature, certs [0] EXPLICIT OPTIONAL }
  const basic = signed(tbs, r.algorithm, ...certs)
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
  return toDer(seq(successful, explicit(0, seq(basicType, octetString(basic)))))
}

// The responder sends the same certificate (the same Buffer) with every response: read it once.
const certificateNodes = new WeakMap<Buffer, Asn1>()
function certificateNode (der: Buffer): Asn1 {
  let node = certificateNodes.get(der)
  if (node === undefined) {
    node = strictDer(der)
    certificateNodes.set(der, node)
  }
  return node
}

const errorStatuses = { malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 } as const

/** An OCSPResponse with an error responseStatus and no responseBytes (RFC 6960 §4.2.1). */
export function ocspErrorResponse (status: keyof typeof errorStatuses): Buffer {
  const code = errorStatuses[status]
  if (code === undefined) throw new RangeError(`unknown OCSP response status ${String(status)}`)
  return toDer(seq(enumerated(code)))
}
