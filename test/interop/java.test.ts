import { X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { interopArtefacts, missingTool, run } from '../helpers/interop.js'

// Java 17 as a relying party: CertPathValidator with PKIXRevocationChecker (OCSP only, or CRLs from the distribution
// points only; every certificate of the chain; soft-fail off), the JSSE trust manager a Java TLS server uses for
// client certificates, and a JSSE client calling the mTLS listener with a participant's transport certificate.
// Interop.java is compiled once and runs every case in one JVM. The listener has an RSA and an EC certificate.
const missing = missingTool('java', 'javac')
if (missing) {
  t.plan(0, `${missing} is not installed (Debian openjdk-17-jdk-headless; .ci/run installs it)`)
} else {
  // javac and the JVM start slowly on a busy host: more than tap's default per file
  t.setTimeout(420_000)
  const classes = t.testdir()
  // compiled while the directory starts
  const compiling = run('javac', ['-d', classes, fileURLToPath(new URL('./Interop.java', import.meta.url))], { timeoutMs: 240_000 })
  const a = await interopArtefacts(t, { TLS_SERVER_KEY: 'rsa-2048,ec-p256' })
  const { files } = a
  const javac = await compiling
  if (javac.status !== 0) throw new Error(`javac: ${javac.out}`)

  const token = await a.participant.token()
  const api = `${a.ctx.mtlsUrl}/organisations/${a.participant.orgId}`
  const cases = [
    'path:ocsp:good.pem', 'path:ocsp:revoked.pem', 'path:crl:good.pem', 'path:crl:revoked.pem',
    'tlsclient:ocsp:good.pem', 'tlsclient:crl:revoked.pem', 'tlsclient:ocsp:signing.pem', 'path:ocsp:signing.pem',
    `jsse:ocsp:TLSv1.3:any:${api}`,
    // FAPI 2.0's TLS 1.2 suites: an RSA one picks the listener's RSA certificate, an ECDSA one its EC certificate
    `jsse:crl:TLSv1.2:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:${api}`,
    `jsse:ocsp:TLSv1.2:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:${api}`,
  ]
  const logsBefore = a.ctx.logs.length
  const java = await run('java', ['-cp', classes, 'Interop', files.root, files.issuing, files.goodKey, files.good, token, ...cases], { cwd: a.dir, timeoutMs: 240_000 })
  if (java.status !== 0) throw new Error(`java: ${java.out}`)
  const result = new Map(java.stdout.trim().split('\n').map((line) => {
    const [name, outcome, ...rest] = line.split(' ')
    return [name!, { ok: outcome === 'OK', detail: rest.join(' ') }]
  }))
  const outcome = (name: string) => {
    const r = result.get(name)
    if (!r) throw new Error(`no result for ${name}: ${java.out}`)
    return r
  }
  // What the JVM asked of the directory while it ran (fastify logs each request's URL).
  const urls = a.ctx.logs.slice(logsBefore).map((l) => JSON.parse(l)).filter((l) => l.msg === 'incoming request').map((l) => String(l.req.url))

  for (const mode of ['ocsp', 'crl'] as const) {
    t.test(`CertPathValidator + PKIXRevocationChecker (${mode}, whole chain, no soft-fail): good valid, revoked refused`, async (t) => {
      const good = outcome(`path:${mode}:good.pem`)
      t.ok(good.ok, 'good chain valid', { detail: good.detail })
      const revoked = outcome(`path:${mode}:revoked.pem`)
      t.notOk(revoked.ok)
      t.match(revoked.detail, /CertificateRevokedException: Certificate has been revoked, reason: KEY_COMPROMISE/)
    })
  }

  t.test('the JVM learnt the issuing CA\'s status from the root: root CRL fetched, OCSP asked about the issuing CA', async (t) => {
    t.ok(urls.includes('/pki/root.crl'), 'root CRL fetched from the issuing CA\'s distribution point', { urls })
    t.ok(urls.includes('/pki/crl'), 'issuing CA CRL fetched from the leaf\'s distribution point')
    // Java sends short OCSP requests by GET (RFC 6960 A.1): read their serial numbers with openssl.
    const issuingSerial = new X509Certificate(readFileSync(files.issuing)).serialNumber.toUpperCase()
    const asked: string[] = []
    for (const [i, url] of urls.filter((u) => u.startsWith('/pki/ocsp/')).entries()) {
      const der = a.path(`java-req-${i}.der`)
      writeFileSync(der, Buffer.from(decodeURIComponent(url.slice('/pki/ocsp/'.length)), 'base64'))
      const text = await run('openssl', ['ocsp', '-reqin', der, '-req_text', '-noverify'])
      asked.push(...[...text.stdout.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1]!.replace(/^0+/, '')))
    }
    t.ok(asked.includes(issuingSerial.replace(/^0+/, '')), 'an OCSP request about the issuing CA certificate', { asked, issuingSerial })
  })

  t.test('JSSE trust manager (TLS client certificates, revocation on): good accepted, revoked and signing refused', async (t) => {
    t.ok(outcome('tlsclient:ocsp:good.pem').ok, 'good transport certificate', { detail: outcome('tlsclient:ocsp:good.pem').detail })
    t.match(outcome('tlsclient:crl:revoked.pem'), { ok: false, detail: /revoked/ })
    // valid as a certificate (PKIX says nothing of purpose), refused as a TLS client certificate (EKU)
    t.ok(outcome('path:ocsp:signing.pem').ok, 'signing certificate chain is valid', { detail: outcome('path:ocsp:signing.pem').detail })
    t.match(outcome('tlsclient:ocsp:signing.pem'), { ok: false, detail: /Extended key usage does not permit use for TLS client authentication/ })
  })

  t.test('JSSE client with revocation checking calls the mTLS listener with a participant certificate', async (t) => {
    const tls13 = outcome(`jsse:ocsp:TLSv1.3:any:${api}`)
    t.ok(tls13.ok, 'TLS 1.3', { detail: tls13.detail })
    // 200: the listener took the participant's certificate and the token bound to it
    t.match(tls13.detail, /^status=200 cipher=TLS_AES_\w+ serverKey=/)
    const rsa = outcome(`jsse:crl:TLSv1.2:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:${api}`)
    t.equal(rsa.detail, 'status=200 cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 serverKey=RSA', 'TLS 1.2, RSA listener certificate')
    const ec = outcome(`jsse:ocsp:TLSv1.2:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:${api}`)
    t.equal(ec.detail, 'status=200 cipher=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 serverKey=EC', 'TLS 1.2, EC listener certificate')
  })
}
