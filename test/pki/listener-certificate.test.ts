import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect, type ConnectionOptions } from 'node:tls'
import t from 'tap'
import { request } from 'undici'
import { initDirectory } from '../../src/init.js'
import { loadMasterKey } from '../../src/keys/master-key.js'
import { KeyVault } from '../../src/keys/vault.js'
import { loadAuthority } from '../../src/pki/ca-store.js'
import { loadConfig } from '../../src/config.js'
import { buildTestApp } from '../helpers/app.js'
import { run } from '../helpers/interop.js'

// The mTLS listener's own certificates, as a TLS client receives them: one per TLS_SERVER_KEY type, side by side,
// each with CN = the first DNS name, every configured name in the SAN, CRL distribution point and AIA like any leaf.
const dir = t.testdir()
const write = (name: string, content: string | Buffer): string => { writeFileSync(join(dir, name), content); return join(dir, name) }
const names = ['127.0.0.1', 'directory.test', 'localhost']
const ctx = await buildTestApp(t, { TLS_SERVER_NAMES: names.join(','), TLS_SERVER_KEY: 'rsa-2048,ec-p256' })
const [issuingPem, rootPem] = ctx.services.authority.caBundlePem().split(/(?<=-----END CERTIFICATE-----\n)/) as [string, string]
const root = write('root.pem', rootPem)
const issuing = write('issuing.pem', issuingPem)
const port = Number(new URL(ctx.mtlsUrl).port)

/** The certificate the listener presents for a client limited to these TLS parameters. */
function serverCertificate (opts: ConnectionOptions): Promise<{ cert: X509Certificate, cipher: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'directory.test', ca: ctx.services.authority.caBundlePem(), ...opts }, () => {
      const cert = socket.getPeerX509Certificate()
      const cipher = socket.getCipher().standardName
      socket.end()
      if (!socket.authorized) reject(new Error(`not trusted: ${String(socket.authorizationError)}`))
      else resolve({ cert: cert!, cipher })
    })
    socket.on('error', reject)
  })
}

const crls = async (): Promise<string[]> => {
  const crl = async (name: string, path: string) => {
    const der = Buffer.from(await (await request(`${ctx.publicUrl}${path}`)).body.arrayBuffer())
    return write(name, execFileSync('openssl', ['crl', '-inform', 'DER', '-in', write(`${name}.der`, der)], { encoding: 'utf8' }))
  }
  return ['-CRLfile', await crl('issuing.crl.pem', '/pki/crl'), '-CRLfile', await crl('root.crl.pem', '/pki/root.crl')]
}

const cases = [
  { type: 'RSA', tls12: 'ECDHE-RSA-AES128-GCM-SHA256', sigalgs: 'rsa_pss_rsae_sha256', key: { asymmetricKeyType: 'rsa', asymmetricKeyDetails: { modulusLength: 2048 } } },
  { type: 'EC', tls12: 'ECDHE-ECDSA-AES128-GCM-SHA256', sigalgs: 'ecdsa_secp256r1_sha256', key: { asymmetricKeyType: 'ec', asymmetricKeyDetails: { namedCurve: 'prime256v1' } } },
] as const

for (const c of cases) {
  t.test(`TLS_SERVER_KEY rsa-2048,ec-p256: the ${c.type} certificate, its fields, whole-chain revocation`, async (t) => {
    // TLS 1.2 with a suite of that key type, and TLS 1.3 with a signature algorithm of that type: the same certificate
    const v12 = await serverCertificate({ maxVersion: 'TLSv1.2', ciphers: c.tls12 })
    const v13 = await serverCertificate({ minVersion: 'TLSv1.3', sigalgs: c.sigalgs })
    t.equal(v12.cert.fingerprint256, v13.cert.fingerprint256)
    const cert = v12.cert
    t.match(cert.publicKey, c.key)
    t.equal(cert.subject, 'O=Ecosystem Directory\nCN=directory.test', 'CN is the first DNS name (the first configured name is an IP)')
    t.equal(cert.subjectAltName, 'DNS:directory.test, DNS:localhost, IP Address:127.0.0.1')
    t.equal(cert.infoAccess?.trim(), `OCSP - URI:${ctx.publicUrl}/pki/ocsp\nCA Issuers - URI:${ctx.publicUrl}/pki/issuing-ca.cer`)
    t.ok(cert.checkIssued(new X509Certificate(issuingPem)), 'issued by the issuing CA')
    const pem = write(`listener-${c.type}.pem`, cert.toString())
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', pem], { encoding: 'utf8' })
    t.match(text, new RegExp(`X509v3 CRL Distribution Points: \\n\\s+Full Name:\\n\\s+URI:${ctx.publicUrl}/pki/crl\\n`))
    t.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/)
    t.match(text, /CA:FALSE/)
    const verified = await run('openssl', ['verify', '-x509_strict', '-crl_check_all', '-purpose', 'sslserver', '-CAfile', root, '-untrusted', issuing, ...await crls(), pem])
    t.equal(verified.status, 0, 'openssl verify -crl_check_all -purpose sslserver', { output: verified.out })
    const ocsp = await run('openssl', ['ocsp', '-url', `${ctx.publicUrl}/pki/ocsp`, '-issuer', issuing, '-cert', pem, '-CAfile', root], { cwd: dir })
    t.match(ocsp.out, /Response verify OK/)
    t.match(ocsp.stdout, /: good/, 'the responder knows the listener\'s certificate')
  })
}

t.test('init re-issues the listener certificates when names or key types change, and only then', async (t) => {
  const config = (env: Record<string, string>) => loadConfig({ ...env, DATA_DIR: ctx.dataDir, DIRECTORY_MASTER_KEY: ctx.config.DIRECTORY_MASTER_KEY!, DIRECTORY_ISSUER: ctx.publicUrl })
  const listener = async () => {
    const material = await loadAuthority(ctx.db.prisma, new KeyVault(await loadMasterKey(ctx.config, ctx.db.prisma)))
    return material.tls.map((x) => new X509Certificate(x.certPem))
  }
  const same = await initDirectory(config({ TLS_SERVER_NAMES: names.join(','), TLS_SERVER_KEY: 'rsa-2048,ec-p256' }), ctx.db, ctx.clock)
  t.equal(same.changed, false, 'unchanged configuration: nothing to do')
  const ec = await initDirectory(config({ TLS_SERVER_NAMES: 'api.directory.test,127.0.0.1', TLS_SERVER_KEY: 'ec-p384' }), ctx.db, ctx.clock)
  t.match(ec.messages, [/exists: unchanged/, /issued the mTLS listener's server certificate \(ec-p384\) for api\.directory\.test, 127\.0\.0\.1/])
  const [only, ...rest] = await listener()
  t.equal(rest.length, 0, 'one key type, one certificate')
  t.match(only!.publicKey, { asymmetricKeyType: 'ec', asymmetricKeyDetails: { namedCurve: 'secp384r1' } })
  t.equal(only!.subject, 'O=Ecosystem Directory\nCN=api.directory.test')
  t.equal(only!.subjectAltName, 'DNS:api.directory.test, IP Address:127.0.0.1')
  const audit = await ctx.db.prisma.auditEvent.findMany({ where: { action: 'authority.tls_server_certificate' }, orderBy: { seq: 'asc' } })
  t.match(audit.at(-1), { after: { names: ['api.directory.test', '127.0.0.1'], key_types: ['ec-p384'] } })
})
