// Object identifiers used by the PKI modules, named as in the RFCs that define them.

export const OID = {
  // RFC 8017 / RFC 4055 (RSA)
  rsaEncryption: '1.2.840.113549.1.1.1',
  md2WithRSAEncryption: '1.2.840.113549.1.1.2',
  md4WithRSAEncryption: '1.2.840.113549.1.1.3',
  md5WithRSAEncryption: '1.2.840.113549.1.1.4',
  sha1WithRSAEncryption: '1.2.840.113549.1.1.5',
  'id-RSASSA-PSS': '1.2.840.113549.1.1.10',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  sha224WithRSAEncryption: '1.2.840.113549.1.1.14',
  'id-mgf1': '1.2.840.113549.1.1.8',
  // RFC 5480 / RFC 5758 (EC)
  'id-ecPublicKey': '1.2.840.10045.2.1',
  'ecdsa-with-SHA1': '1.2.840.10045.4.1',
  'ecdsa-with-SHA224': '1.2.840.10045.4.3.1',
  'ecdsa-with-SHA256': '1.2.840.10045.4.3.2',
  'ecdsa-with-SHA384': '1.2.840.10045.4.3.3',
  'ecdsa-with-SHA512': '1.2.840.10045.4.3.4',
  secp256r1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  // RFC 8410, RFC 3279
  'id-Ed25519': '1.3.101.112',
  'id-Ed448': '1.3.101.113',
  'id-X25519': '1.3.101.110',
  'id-X448': '1.3.101.111',
  'id-dsa': '1.2.840.10040.4.1',
  dhpublicnumber: '1.2.840.10046.2.1',
  // hashes
  'id-sha1': '1.3.14.3.2.26',
  'id-sha224': '2.16.840.1.101.3.4.2.4',
  'id-sha256': '2.16.840.1.101.3.4.2.1',
  'id-sha384': '2.16.840.1.101.3.4.2.2',
  'id-sha512': '2.16.840.1.101.3.4.2.3',
  // PKCS #9 (RFC 2985)
  extensionRequest: '1.2.840.113549.1.9.14',
  // X.520 attribute types
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  organizationIdentifier: '2.5.4.97',
  businessCategory: '2.5.4.15',
  // CA/Browser Forum EV Guidelines §9.2.4 (Microsoft arc)
  jurisdictionCountryName: '1.3.6.1.4.1.311.60.2.1.3',
  userId: '0.9.2342.19200300.100.1.1',
  // RFC 5280 extensions
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  cRLDistributionPoints: '2.5.29.31',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  'id-kp-serverAuth': '1.3.6.1.5.5.7.3.1',
  'id-kp-clientAuth': '1.3.6.1.5.5.7.3.2',
  'id-kp-OCSPSigning': '1.3.6.1.5.5.7.3.9',
  // RFC 9336: document signing, which no TLS stack accepts for client or server authentication
  'id-kp-documentSigning': '1.3.6.1.5.5.7.3.36',
  'id-ad-ocsp': '1.3.6.1.5.5.7.48.1',
  'id-ad-caIssuers': '1.3.6.1.5.5.7.48.2',
  // RFC 6960
  'id-pkix-ocsp-basic': '1.3.6.1.5.5.7.48.1.1',
  'id-pkix-ocsp-nonce': '1.3.6.1.5.5.7.48.1.2',
  'id-pkix-ocsp-nocheck': '1.3.6.1.5.5.7.48.1.5',
} as const
