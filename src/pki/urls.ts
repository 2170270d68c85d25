// Where the directory publishes its PKI: every certificate it issues points here (CRL distribution point, AIA),
// so a verifier can walk the whole chain and learn each certificate's status (RFC 5280 §4.2.1.13, §4.2.2.1).

export interface PkiUrls {
  /** CRL of the issuing CA: participant and listener certificates. */
  crl: string
  /** CRL signed by the root: the issuing CA certificate(s). */
  rootCrl: string
  /** One OCSP responder for both levels; the CertID's issuer hashes choose who answers (RFC 6960 §4.1.1). */
  ocsp: string
  /** A single DER certificate per issuer, application/pkix-cert (RFC 5280 §4.2.2.1). */
  issuingCa: string
  rootCa: string
  /** PEM bundle of issuing CA and root. */
  bundle: string
}

export function pkiUrls (base: string): PkiUrls {
  return {
    crl: `${base}/pki/crl`,
    rootCrl: `${base}/pki/root.crl`,
    ocsp: `${base}/pki/ocsp`,
    issuingCa: `${base}/pki/issuing-ca.cer`,
    rootCa: `${base}/pki/root-ca.cer`,
    bundle: `${base}/pki/ca.pem`,
  }
}
