// Reading X.509 certificates (RFC 5280 §4.1) into the parts the CA needs, keeping the exact DER of each.
import { asn1, children, fromDer, type Asn1 } from './der.js'
import { OID } from './oids.js'
import { Asn1Error, Tag, parseDer, readBitStringBytes, readInteger, readOid, readTime, readTlv, type Der } from './asn1.js'

export interface CertificateParts {
  tbsCertificate: Der
  serial: Buffer
  issuer: Der
  notBefore: Date
  notAfter: Date
  subject: Der
  subjectPublicKeyInfo: Der
  /** The subjectPublicKey BIT STRING contents (what SKI method 1 and OCSP CertID key hashes are over). */
  subjectPublicKey: Buffer
  extensions: Map<string, { critical: boolean, value: Buffer }>
}

export function readCertificate (der: Buffer): CertificateParts {
  const [tbs, sigAlg, sig, ...extra] = parseDer(der).expect(Tag.SEQUENCE, 'Certificate').children()
  if (tbs === undefined || sigAlg === undefined || sig === undefined || extra.length > 0) throw new Asn1Error('Certificate must have three fields')
  const fields = tbs.expect(Tag.SEQUENCE, 'tbsCertificate').children()
  let i = fields[0]?.tag === 0xa0 ? 1 : 0 // version [0] EXPLICIT, DEFAULT v1
  const at = (what: string): Der => {
    const f = fields[i++]
    if (f === undefined) throw new Asn1Error(`tbsCertificate lacks ${what}`)
    return f
  }
  const serial = readInteger(at('serialNumber'))
  at('signature')
  const issuer = at('issuer').expect(Tag.SEQUENCE, 'issuer')
  const [nb, na] = at('validity').expect(Tag.SEQUENCE, 'validity').children()
  if (nb === undefined || na === undefined) throw new Asn1Error('bad validity')
  const subject = at('subject').expect(Tag.SEQUENCE, 'subject')
  const spki = at('subjectPublicKeyInfo').expect(Tag.SEQUENCE, 'subjectPublicKeyInfo')
  const bits = spki.children()[1]
  if (bits === undefined) throw new Asn1Error('bad subjectPublicKeyInfo')
  const extensions = new Map<string, { critical: boolean, value: Buffer }>()
  for (const f of fields.slice(i)) {
    if (f.tag !== 0xa3) continue // issuerUniqueID [1], subjectUniqueID [2]
    const [list] = f.children()
    for (const ext of list?.expect(Tag.SEQUENCE, 'Extensions').children() ?? []) {
      const [id, second, third] = ext.expect(Tag.SEQUENCE, 'Extension').children()
      const value = third ?? second
      if (id === undefined || value === undefined) throw new Asn1Error('bad Extension')
      const critical = third !== undefined && second?.tag === Tag.BOOLEAN && second.content[0] !== 0
      extensions.set(readOid(id), { critical, value: value.expect(Tag.OCTET_STRING, 'extnValue').content })
    }
  }
  return {
    tbsCertificate: tbs,
    serial,
    issuer,
    notBefore: readTime(nb),
    notAfter: readTime(na),
    subject,
    subjectPublicKeyInfo: spki,
    subjectPublicKey: readBitStringBytes(bits),
    extensions,
  }
}

/** The keyIdentifier of a SubjectKeyIdentifier extension value (RFC 5280 §4.2.1.2). */
export function readKeyIdentifier (extnValue: Buffer): Buffer {
  const d = readTlv(extnValue, 0)
  return d.expect(Tag.OCTET_STRING, 'SubjectKeyIdentifier').content
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
  if (dp !== undefined) out.crl = uris(fromDer(dp.value))
  const aia = extensions.get(OID.authorityInfoAccess)
  if (aia !== undefined) {
    for (const ad of children(fromDer(aia.value))) {
      const [method, location] = children(ad)
      if (method === undefined || location === undefined) continue
      const id = asn1.derToOid(method.value as string)
      if (id === OID['id-ad-ocsp']) out.ocsp.push(...uris(location))
      if (id === OID['id-ad-caIssuers']) out.caIssuers.push(...uris(location))
    }
  }
  return out
}

/** Every uniformResourceIdentifier [6] GeneralName below `a`. */
function uris (a: Asn1): string[] {
  if (a.tagClass === asn1.Class.CONTEXT_SPECIFIC && a.type === 6 && !a.constructed) return [a.value as string]
  return children(a).flatMap(uris)
}
