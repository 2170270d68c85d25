import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A test PKI made with the openssl CLI (an independent implementation of X.509): a root CA, an issuing CA that
 * keeps an `openssl ca` database (index.txt, which `openssl ocsp` answers from), a delegated OCSP responder, and
 * functions to issue, revoke and forge certificates. Keys are EC P-256 except the issuing CA (RSA 2048), so both
 * signature families are exercised.
 */

export interface KeyAndCert {
  keyPath: string;
  certPath: string;
  keyPem: string;
  certPem: string;
}

export interface IssueOptions {
  /** Subject, e.g. `/CN=software-1/O=Fintech Ltd`. */
  subject: string;
  /** `client` (clientAuth + AIA OCSP), `server` (serverAuth, SAN 127.0.0.1/localhost), `ocsp` (OCSPSigning). */
  profile?: 'client' | 'server' | 'ocsp' | 'server-only-eku';
  /** openssl ca date format YYYYMMDDHHMMSSZ. */
  startDate?: string;
  endDate?: string;
  /** Issue with `openssl x509 -req` instead of `openssl ca`, so the responder's database never hears of it. */
  unrecorded?: boolean;
}

export interface TestPki {
  dir: string;
  root: KeyAndCert;
  issuing: KeyAndCert;
  /** Issuing CA then root, as the directory serves `/pki/ca.pem`. */
  caBundlePem: string;
  ocspUrl: string;
  issue(name: string, options: IssueOptions): KeyAndCert;
  revoke(cert: KeyAndCert, reason?: string): void;
  /** Re-reads the issuing CA database (index.txt) path for `openssl ocsp -index`. */
  indexPath: string;
}

function openssl(cwd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync('openssl', args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

function ecKey(cwd: string, path: string): void {
  openssl(cwd, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

const CA_CONFIG = `
[ ca ]
default_ca = issuing

[ issuing ]
dir = ./issuing
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
default_days = 30
policy = policy_cn
unique_subject = no
copy_extensions = none
preserve = yes

[ policy_cn ]
commonName = supplied

[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityInfoAccess = OCSP;URI:$ENV::OCSP_URL
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ server-only-eku_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
authorityInfoAccess = OCSP;URI:$ENV::OCSP_URL
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ ocsp_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ ca_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** A self-signed root and an issuing CA under `dir`; leaf certificates name `ocspUrl` in their AIA. */
export function createTestPki(dir: string, ocspUrl: string, label = 'Test'): TestPki {
  mkdirSync(join(dir, 'issuing', 'newcerts'), { recursive: true });
  writeFileSync(join(dir, 'issuing', 'index.txt'), '');
  writeFileSync(join(dir, 'issuing', 'serial'), '1000\n');
  writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG);
  const env = { OCSP_URL: ocspUrl };

  ecKey(dir, 'root.key');
  openssl(dir, [
    'req', '-x509', '-new', '-key', 'root.key', '-subj', `/CN=${label} Root CA/O=${label} Ecosystem`, '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'root.pem',
  ]);
  openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'issuing/ca.key']);
  openssl(dir, ['req', '-new', '-key', 'issuing/ca.key', '-subj', `/CN=${label} Issuing CA/O=${label} Ecosystem`, '-out', 'issuing/ca.csr']);
  openssl(dir, [
    'x509', '-req', '-in', 'issuing/ca.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '2',
    '-days', '30', '-extfile', 'ca.cnf', '-extensions', 'ca_ext', '-out', 'issuing/ca.pem',
  ], env);

  const root = { keyPath: join(dir, 'root.key'), certPath: join(dir, 'root.pem'), keyPem: read(join(dir, 'root.key')), certPem: read(join(dir, 'root.pem')) };
  const issuing = {
    keyPath: join(dir, 'issuing', 'ca.key'),
    certPath: join(dir, 'issuing', 'ca.pem'),
    keyPem: read(join(dir, 'issuing', 'ca.key')),
    certPem: read(join(dir, 'issuing', 'ca.pem')),
  };
  let unrecordedSerial = 0x7000;

  return {
    dir,
    root,
    issuing,
    caBundlePem: issuing.certPem + root.certPem,
    ocspUrl,
    indexPath: join(dir, 'issuing', 'index.txt'),
    issue(name, options) {
      const keyPath = join(dir, `${name}.key`);
      const certPath = join(dir, `${name}.pem`);
      ecKey(dir, keyPath);
      openssl(dir, ['req', '-new', '-key', keyPath, '-subj', options.subject, '-out', `${name}.csr`]);
      const profile = `${options.profile ?? 'client'}_ext`;
      if (options.unrecorded) {
        unrecordedSerial += 1;
        openssl(dir, [
          'x509', '-req', '-in', `${name}.csr`, '-CA', issuing.certPath, '-CAkey', issuing.keyPath,
          '-set_serial', String(unrecordedSerial), '-days', '30', '-extfile', 'ca.cnf', '-extensions', profile, '-out', certPath,
        ], env);
      } else {
        openssl(dir, [
          'ca', '-batch', '-config', 'ca.cnf', '-extensions', profile, '-notext', '-in', `${name}.csr`, '-out', certPath,
          ...(options.startDate ? ['-startdate', options.startDate] : []),
          ...(options.endDate ? ['-enddate', options.endDate] : []),
        ], env);
      }
      return { keyPath, certPath, keyPem: read(keyPath), certPem: read(certPath) };
    },
    revoke(cert, reason = 'keyCompromise') {
      openssl(dir, ['ca', '-config', 'ca.cnf', '-revoke', cert.certPath, '-crl_reason', reason], env);
    },
  };
}

/** A self-contained foreign CA and one client certificate it issued (not trusted by the test PKI). */
export function createForeignClient(dir: string, name: string): KeyAndCert & { caPem: string } {
  mkdirSync(dir, { recursive: true });
  ecKey(dir, 'foreign-ca.key');
  openssl(dir, [
    'req', '-x509', '-new', '-key', 'foreign-ca.key', '-subj', '/CN=Foreign CA', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-out', 'foreign-ca.pem',
  ]);
  ecKey(dir, `${name}.key`);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n');
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', 'foreign-ca.pem', '-CAkey', 'foreign-ca.key', '-set_serial', '77',
    '-days', '30', '-extfile', 'leaf.ext', '-out', `${name}.pem`,
  ]);
  return {
    keyPath: join(dir, `${name}.key`),
    certPath: join(dir, `${name}.pem`),
    keyPem: read(join(dir, `${name}.key`)),
    certPem: read(join(dir, `${name}.pem`)),
    caPem: read(join(dir, 'foreign-ca.pem')),
  };
}

/** `openssl verify` as an independent oracle for chain checks. */
export function opensslVerifies(dir: string, caBundlePath: string, certPath: string): boolean {
  try {
    openssl(dir, ['verify', '-CAfile', caBundlePath, '-purpose', 'sslclient', certPath]);
    return true;
  } catch {
    return false;
  }
}
