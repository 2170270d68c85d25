import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { initDirectory } from '../../src/init.js'
import { buildTestApp } from '../helpers/app.js'
import { run } from '../helpers/interop.js'
import { enrolParticipant } from '../helpers/participant.js'

// Upgrade of a deployment made before the root published revocation information for the issuing CA: its issuing CA
// certificate (made here with openssl, as such a deployment had it) names the issuing CA's own CRL. The next init
// re-issues it with the root for the same key and name, pointing at the root's CRL and OCSP.
const dir = t.testdir()
const f = (name: string) => join(dir, name)
const write = (name: string, content: string | Buffer): string => { writeFileSync(f(name), content); return f(name) }
const ssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

const ctx = await buildTestApp(t)
const { prisma } = ctx.db
const material = ctx.services.authority.material
const base = ctx.publicUrl
const current = new X509Certificate(material.issuingDer)
write('root.pem', new X509Certificate(material.rootDer).toString())
write('root.key', material.root!.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string)
write('issuing.key', material.issuer.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string)
// The old profile: the issuing CA's status pointed at its own CRL and the PEM bundle; same key identifier.
const ski = /X509v3 Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(ssl('x509', '-noout', '-ext', 'subjectKeyIdentifier', '-in', write('current.pem', current.toString())))![1]!
write('old.cnf', [
  'basicConstraints=critical,CA:true,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign', `subjectKeyIdentifier=${ski}`,
  'authorityKeyIdentifier=keyid:always', `crlDistributionPoints=URI:${base}/pki/crl`, `authorityInfoAccess=OCSP;URI:${base}/pki/ocsp,caIssuers;URI:${base}/pki/ca.pem`, '',
].join('\n'))
ssl('req', '-new', '-key', f('issuing.key'), '-subj', '/O=Ecosystem Directory/CN=Ecosystem Directory Issuing CA', '-out', f('old.csr'))
ssl('x509', '-req', '-in', f('old.csr'), '-CA', f('root.pem'), '-CAkey', f('root.key'), '-set_serial', '0x0badc0ffee', '-days', '3650', '-extfile', f('old.cnf'), '-out', f('old.pem'))
const old = new X509Certificate(ssl('x509', '-in', f('old.pem')))

t.test('re-issue on upgrade: same key, name and key identifier; new serial; points at the root\'s CRL and OCSP', async (t) => {
  t.equal(old.subject, current.subject, 'the old certificate has the same subject')
  // a participant certified by the issuing key before the upgrade
  const alice = await enrolParticipant(ctx)
  t.teardown(() => alice.close())
  const leaf = write('leaf.pem', alice.transportCertPem.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!)
  await prisma.authorityCertificate.updateMany({ where: { kind: 'issuing-ca', active: true }, data: { der: new Uint8Array(old.raw), serial: '0badc0ffee' } })

  const report = await initDirectory(ctx.config, ctx.db, ctx.clock)
  t.match(report.messages, [/exists: unchanged/, /re-issued the issuing CA certificate/])
  t.ok(report.changed)
  const rows = await prisma.authorityCertificate.findMany({ where: { kind: 'issuing-ca' }, orderBy: { createdAt: 'asc' } })
  t.equal(rows.length, 2, 'the old certificate is kept, inactive')
  t.same(rows.map((r) => [r.serial, r.active]), [['0badc0ffee', false], [rows[1]!.serial, true]])
  t.equal(rows[0]!.keyId, rows[1]!.keyId, 'same sealed key')
  const renewed = new X509Certificate(Buffer.from(rows[1]!.der))
  t.not(renewed.serialNumber.toLowerCase(), '0badc0ffee')
  t.equal(renewed.subject, old.subject, 'same subject')
  t.ok(renewed.publicKey.equals(old.publicKey), 'same public key')
  t.ok(renewed.verify(new X509Certificate(material.rootDer).publicKey), 'signed by the root')
  const text = ssl('x509', '-noout', '-text', '-in', write('renewed.pem', renewed.toString()))
  t.match(text, new RegExp(`X509v3 Subject Key Identifier: \\n\\s+${ski}`), 'same key identifier')
  t.match(text, /CA:TRUE, pathlen:0/)
  t.match(text, new RegExp(`CRL Distribution Points: \\n\\s+Full Name:\\n\\s+URI:${base}/pki/root\\.crl`))
  t.match(text, new RegExp(`OCSP - URI:${base}/pki/ocsp\\n\\s+CA Issuers - URI:${base}/pki/root-ca\\.cer`))

  const audit = await prisma.auditEvent.findMany({ where: { action: 'authority.issuing_ca_reissue' } })
  t.equal(audit.length, 1)
  t.match(audit[0], { target: 'authority', before: { issuing_serial: '0badc0ffee' }, after: { issuing_serial: rows[1]!.serial, crl_url: `${base}/pki/root.crl` } })

  // participants' certificates still verify, whole chain with revocation checking, under either certificate
  const crl = async (name: string, url: string) => {
    const der = Buffer.from(await (await request(url)).body.arrayBuffer())
    return write(name, ssl('crl', '-inform', 'DER', '-in', write(`${name}.der`, der)))
  }
  const crls = ['-CRLfile', await crl('issuing.crl.pem', `${base}/pki/crl`), '-CRLfile', await crl('root.crl.pem', `${base}/pki/root.crl`)]
  for (const issuing of ['renewed.pem', 'old.pem']) {
    const v = await run('openssl', ['verify', '-x509_strict', '-crl_check_all', '-purpose', 'sslclient', '-CAfile', f('root.pem'), '-untrusted', f(issuing), ...crls, leaf])
    t.equal(v.status, 0, `participant certificate verifies under ${issuing}`, { output: v.out })
  }
  // the root answers OCSP about the re-issued certificate
  const ocsp = await run('openssl', ['ocsp', '-url', `${base}/pki/ocsp`, '-issuer', f('root.pem'), '-cert', f('renewed.pem'), '-CAfile', f('root.pem')], { cwd: dir })
  t.match(ocsp.out, /Response verify OK/)
  t.match(ocsp.stdout, /renewed\.pem: good/)

  const again = await initDirectory(ctx.config, ctx.db, ctx.clock)
  t.notOk(again.messages.some((m) => /re-issued/.test(m)), 'a second init changes nothing')
  t.equal(await prisma.authorityCertificate.count({ where: { kind: 'issuing-ca' } }), 2)
})
