import { execFileSync } from 'node:child_process'
import { randomBytes, X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { AuditLog } from '../../../src/audit/audit-log.js'
import { loadConfig } from '../../../src/config.js'
import { loadMasterKey } from '../../../src/keys/master-key.js'
import { KeyVault } from '../../../src/keys/vault.js'
import { importAuthority } from '../../../src/pki/ca-store.js'
import { buildTestApp, TestClock } from '../../helpers/app.js'
import { testDatabase } from '../../helpers/database.js'
import { run } from '../../helpers/interop.js'
import { enrolParticipant } from '../../helpers/participant.js'

// The CA's public documents over real HTTP, read by openssl: the root's CRL, one DER certificate per issuer (AIA
// caIssuers), the OCSP responder's answers about the issuing CA and its refusals of odd requests.
const dir = t.testdir()
const file = (name: string, content: string | Buffer): string => { writeFileSync(join(dir, name), content); return join(dir, name) }
const ctx = await buildTestApp(t)
const alice = await enrolParticipant(ctx)
t.teardown(() => alice.close())
const [issuingPem, rootPem] = ctx.services.authority.caBundlePem().split(/(?<=-----END CERTIFICATE-----\n)/) as [string, string]
const root = file('root.pem', rootPem)
const issuing = file('issuing.pem', issuingPem)
const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await request(url, { headers })
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
}
const caIssuers = (pem: string): string | undefined => /CA Issuers - URI:(\S+)/.exec(new X509Certificate(pem).infoAccess ?? '')?.[1]
// OCSPResponse { responseStatus malformedRequest (1) } / unauthorized (6)
const malformed = [0x30, 0x03, 0x0a, 0x01, 0x01]
const unauthorized = [0x30, 0x03, 0x0a, 0x01, 0x06]

t.test('GET /pki/root.crl: DER CRL signed by the root, named by the issuing CA\'s distribution point, no CA revoked', async (t) => {
  const res = await get(`${ctx.publicUrl}/pki/root.crl`)
  t.equal(res.status, 200)
  t.equal(res.headers['content-type'], 'application/pkix-crl')
  t.equal(res.body[0], 0x30, 'DER, not PEM')
  const text = await run('openssl', ['crl', '-inform', 'DER', '-in', file('root.crl', res.body), '-CAfile', root, '-noout', '-text'])
  t.match(text.stderr, /verify OK/)
  t.match(text.stdout, /Issuer: O ?= ?Ecosystem Directory, CN ?= ?Ecosystem Directory Root CA/)
  t.match(text.stdout, /X509v3 Authority Key Identifier/)
  t.match(text.stdout, /X509v3 CRL Number/)
  t.match(text.stdout, /No Revoked Certificates/, 'the directory never revokes its issuing CA')
  t.notMatch((await run('openssl', ['crl', '-inform', 'DER', '-in', join(dir, 'root.crl'), '-CAfile', issuing, '-noout'])).stderr, /verify OK/, 'not signed by the issuing CA')
  const ext = execFileSync('openssl', ['x509', '-noout', '-ext', 'crlDistributionPoints', '-in', issuing], { encoding: 'utf8' })
  t.match(ext, `URI:${ctx.publicUrl}/pki/root.crl`)
  t.ok(res.headers.etag)
  const again = await get(`${ctx.publicUrl}/pki/root.crl`, { 'if-none-match': String(res.headers.etag) })
  t.equal(again.status, 304)
})

t.test('GET /pki/issuing-ca.cer and /pki/root-ca.cer: one DER certificate each, where AIA caIssuers points', async (t) => {
  const leafPem = alice.transportCertPem.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!
  for (const [name, pem, pointer] of [['issuing-ca.cer', issuingPem, caIssuers(leafPem)], ['root-ca.cer', rootPem, caIssuers(issuingPem)]] as const) {
    t.equal(pointer, `${ctx.publicUrl}/pki/${name}`, `caIssuers names ${name}`)
    const res = await get(pointer!)
    t.equal(res.status, 200)
    t.equal(res.headers['content-type'], 'application/pkix-cert')
    t.ok(res.body.equals(new X509Certificate(pem).raw), `${name} is exactly the certificate, DER`)
    const parsed = await run('openssl', ['x509', '-inform', 'DER', '-in', file(name, res.body), '-noout', '-subject'])
    t.equal(parsed.status, 0, 'openssl reads it as DER', { output: parsed.out })
  }
})

t.test('OCSP about the issuing CA is answered and signed by the root; a request mixing issuers is unauthorized', async (t) => {
  const ask = (...args: string[]) => run('openssl', ['ocsp', '-url', `${ctx.publicUrl}/pki/ocsp`, '-CAfile', root, '-resp_text', ...args], { cwd: dir })
  const good = await ask('-issuer', root, '-cert', issuing)
  t.equal(good.status, 0, 'exit 0', { output: good.out })
  t.match(good.out, /Response verify OK/)
  t.match(good.stdout, /issuing\.pem: good/)
  // signed by the root (ResponderID byKey = the root's key hash), with the root's certificate in `certs`
  const rootSki = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectKeyIdentifier', '-in', root], { encoding: 'utf8' }).split('\n')[1]!.trim().replace(/:/g, '')
  t.match(good.stdout, new RegExp(`Responder Id: ${rootSki}`))
  t.match(good.stdout, /Subject: O ?= ?Ecosystem Directory, CN ?= ?Ecosystem Directory Root CA/)
  const unknown = await ask('-issuer', root, '-serial', '0x0123456789abcdef')
  t.match(unknown.out, /Response verify OK/)
  t.match(unknown.stdout, /: unknown/, 'a serial the root never issued')
  const mixed = await ask('-issuer', root, '-cert', issuing, '-issuer', issuing, '-cert', file('leaf.pem', alice.transportCertPem.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!))
  t.match(mixed.out, /Responder Error: unauthorized/)
})

t.test('GET /pki/ocsp with odd encodings answers malformedRequest, never 500', async (t) => {
  for (const path of ['%25', '%', '%zz', '%E0%A4%A', 'a%20b', '!!!!', '====', 'AAAA', '%2F%2F%2F%2F', 'MA%3D%3D', '%C0%AF', 'a/b', '%00', 'A'.repeat(5000)]) {
    const res = await get(`${ctx.publicUrl}/pki/ocsp/${path}`)
    const name = path.slice(0, 20)
    t.equal(res.status, 200, name)
    t.equal(res.headers['content-type'], 'application/ocsp-response', name)
    t.same([...res.body], malformed, name)
  }
})

t.test('discovery names the root CRL beside the other PKI URLs', async (t) => {
  const doc = (await ctx.app.inject('/.well-known/openid-configuration')).json()
  t.match(doc, {
    ca_bundle_uri: `${ctx.publicUrl}/pki/ca.pem`, crl_uri: `${ctx.publicUrl}/pki/crl`, ocsp_uri: `${ctx.publicUrl}/pki/ocsp`,
    root_crl_uri: `${ctx.publicUrl}/pki/root.crl`,
  })
})

t.test('an imported CA without its root key: no root CRL of ours (404, or a redirect to CA_ROOT_CRL_URL), OCSP about the issuing CA unauthorized', async (t) => {
  const d = t.testdir()
  const f = (n: string) => join(d, n)
  const ssl = (...a: string[]) => execFileSync('openssl', a, { stdio: ['ignore', 'ignore', 'pipe'] })
  writeFileSync(f('ext.cnf'), 'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n')
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', f('root.key'), '-out', f('root.pem'), '-subj', '/O=Own Ecosystem/CN=Own Root', '-days', '30')
  ssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('issuing.key'), '-out', f('issuing.csr'), '-subj', '/O=Own Ecosystem/CN=Own Issuing')
  ssl('x509', '-req', '-in', f('issuing.csr'), '-CA', f('root.pem'), '-CAkey', f('root.key'), '-CAcreateserial', '-out', f('issuing.pem'), '-days', '20', '-extfile', f('ext.cnf'))
  const read = (n: string) => readFileSync(f(n), 'utf8')
  const masterKey = randomBytes(32).toString('base64')
  const rootCrlUrl = 'https://pki.own-ecosystem.example/root.crl'
  const env = { DIRECTORY_MASTER_KEY: masterKey, CA_ROOT_CRL_URL: rootCrlUrl }
  const { db } = await testDatabase(t)
  const config = loadConfig({ DATA_DIR: d, ...env })
  const clock = new TestClock()
  const deps = { prisma: db.prisma, vault: new KeyVault(await loadMasterKey(config, db.prisma)), audit: new AuditLog(clock), clock, config }
  await importAuthority(deps, { issuingCertPem: read('issuing.pem'), issuingKeyPem: read('issuing.key'), rootCertPem: read('root.pem') }, { actor: 'test' })
  const own = await buildTestApp(t, env, { db: { db } })
  t.notOk(own.services.authority.hasRootKey())
  const redirect = await get(`${own.publicUrl}/pki/root.crl`)
  t.equal(redirect.status, 302)
  t.equal(redirect.headers.location, rootCrlUrl)
  const discovery = (await own.app.inject('/.well-known/openid-configuration')).json()
  t.equal(discovery.root_crl_uri, rootCrlUrl, 'discovery names the owner\'s root CRL')
  const ocsp = await run('openssl', ['ocsp', '-issuer', f('root.pem'), '-cert', f('issuing.pem'), '-no_nonce', '-reqout', f('req.der')])
  t.equal(ocsp.status, 0, 'request made', { output: ocsp.out })
  const res = await request(`${own.publicUrl}/pki/ocsp`, { method: 'POST', body: readFileSync(f('req.der')), headers: { 'content-type': 'application/ocsp-request' } })
  t.same([...Buffer.from(await res.body.arrayBuffer())], unauthorized, 'the root answers for its own certificates, not us')

  const noUrl = await buildTestApp(t, { DIRECTORY_MASTER_KEY: masterKey }, { db: { db } })
  const missing = await get(`${noUrl.publicUrl}/pki/root.crl`)
  t.equal(missing.status, 404)
  t.match(missing.headers['content-type'], /application\/problem\+json/)
  t.match(JSON.parse(missing.body.toString()).detail, /does not hold the root key[\s\S]*CA_ROOT_CRL_URL/)
  t.notOk('root_crl_uri' in (await noUrl.app.inject('/.well-known/openid-configuration')).json(), 'nothing to name')
})
