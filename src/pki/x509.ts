// Reading X.509 certificates (RFC 5280 §4.1) into the parts the CA needs, with the exact DER of each.
import { Asn1Error, Tag, asn1, children, content, expect, is, readBitStringBytes, readInteger, readOid, readTime, slice, strictDer, type Asn1 } from './der.js'
import { OID } from './oids.js'

export interface CertificateParts {
  serial: Buffer
  /** The issuer and subject Names, as nodes and as DER (the DER parts are views of the certificate's bytes). */
  issuer: Asn1
  issuerDer: Buffer
  notBefore: Date
  notAfter: Date
  subject: Asn1
  subjectDer: Buffer
  subjectPublicKeyInfo: Buffer
  /** The subjectPublicKey BIT STRING contents (what SKI method 1 and OCSP CertID key hashes are over). */
  subjectPublicKey: Buffer
  extensions: Map<string, { critical: boolean, value: Buffer }>
}

/**
 * The certificate's fields. It must be DER (every certificate the directory makes or imports is), so that the
 * bytes of a part are unambiguous: the issuer field and key hashes of what we sign must match them exactly.
 */
export function readCertificate (der: Buffer): CertificateParts {
  const top = strictDer(der)
  const [tbs, sigAlg, sig, ...extra] = children(expect(top, Tag.SEQUENCE, 'Certificate'))
  if (tbs === undefined || sigAlg === undefined || sig === undefined || extra.length > 0) throw new Asn1Error('Certificate must have three fields')
  const fields = children(expect(tbs, Tag.SEQUENCE, 'tbsCertificate'))
  let i = is(fields[0], 0xa0) ? 1 : 0 // version [0] EXPLICIT, DEFAULT v1
  const at = (what: string): Asn1 => {
    const f = fields[i++]
    if (f === undefined) throw new Asn1Error(`tbsCertificate lacks ${what}`)
    return f
  }
  const serial = readInteger(at('serialNumber'))
  at('signature')
  const issuer = expect(at('issuer'), Tag.SEQUENCE, 'issuer')
  const issuerAt = i - 1
  const [nb, na] = children(expect(at('validity'), Tag.SEQUENCE, 'validity'))
  if (nb === undefined || na === undefined) throw new Asn1Error('bad validity')
  const subject = expect(at('subject'), Tag.SEQUENCE, 'subject')
  const spki = expect(at('subjectPublicKeyInfo'), Tag.SEQUENCE, 'subjectPublicKeyInfo')
  // issuer, subject and subjectPublicKeyInfo follow one another in the TBSCertificate
  const bits = children(spki)[1]
  if (bits === undefined) throw new Asn1Error('bad subjectPublicKeyInfo')
  const extensions = new Map<string, { critical: boolean, value: Buffer }>()
  for (const f of fields.slice(i)) {
    if (!is(f, 0xa3)) continue // issuerUniqueID [1], subjectUniqueID [2]
    const [list] = children(f)
    for (const ext of list === undefined ? [] : children(expect(list, Tag.SEQUENCE, 'Extensions'))) {
      const [id, second, third] = children(expect(ext, Tag.SEQUENCE, 'Extension'))
      const value = third ?? second
      if (id === undefined || value === undefined) throw new Asn1Error('bad Extension')
      const critical = third !== undefined && is(second, Tag.BOOLEAN) && content(second)[0] !== 0
      extensions.set(readOid(id), { critical, value: content(expect(value, Tag.OCTET_STRING, 'extnValue')) })
    }
  }
  return {
    serial,
    issuer,
    issuerDer: slice(der, top, [0, issuerAt]),
    notBefore: readTime(nb),
    notAfter: readTime(na),
    subject,
    subjectDer: slice(der, top, [0, issuerAt + 2]),
    subjectPublicKeyInfo: slice(der, top, [0, issuerAt + 3]),
    subjectPublicKey: readBitStringBytes(bits),
    extensions,
  }
}

/** The keyIdentifier of a SubjectKeyIdentifier extension value (RFC 5280 §4.2.1.2). */
export function readKeyIdentifier (extnValue: Buffer): Buffer {
  return content(expect(strictDer(extnValue), Tag.OCTET_STRING, 'SubjectKeyIdentifier'))
}

export interface RevocationPointers {
  /** fullName URIs of the CRL distribution points (RFC 5280 §4.2.1.13). */
  crl: string[]
  /** AIA id-ad-ocsp and id-ad-caIssuers URIs (RFC 5280 §4.2.2.1). */
  ocsp: string[]
  caIssuers: string[]
}

/** Where a certificate says its status and issuer can be found; empty lists when it says nothing. */
export function revocationPointers (der: Buffer): RevocationPointers {
  const { extensions } = readCertificate(der)
  const out: RevocationPointers = { crl: [], ocsp: [], caIssuers: [] }
  const dp = extensions.get(OID.cRLDistributionPoints)
  if (dp !== undefined) out.crl = uris(strictDer(dp.value))
  const aia = extensions.get(OID.authorityInfoAccess)
  if (aia !== undefined) {
    for (const ad of children(strictDer(aia.value))) {
      const [method, location] = children(ad)
      if (method === undefined || location === undefined) continue
      const id = readOid(method)
      if (id === OID['id-ad-ocsp']) out.ocsp.push(...uris(location))
      if (id === OID['id-ad-caIssuers']) out.caIssuers.push(...uris(location))
    }
  }
  return out
}

/** Every uniformResourceIdentifier [6] GeneralName below `a`. */
function uris (a: Asn1): string[] {
  if (a.tagClass === asn1.Class.CONTEXT_SPECIFIC && a.type === 6 && !a.constructed) return [a.value as string]
  return a.constructed ? children(a).flatMap(uris) : []
}
