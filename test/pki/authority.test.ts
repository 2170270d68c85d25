import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { buildTestApp } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { ecKey, enrolParticipant, makeCsr } from '../helpers/participant.js'

const dir = mkdtempSync(join(tmpdir(), 'ca-test-'))
const ctx = await buildTestApp(t)
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const alice = await enrolParticipant(ctx, { legalName: 'Alice Payments Ltd' })
t.teardown(() => alice.close())
const file = (name: string, content: string | Buffer): string => { const f = join(dir, name); writeFileSync(f, content); return f }
const openssl = (...args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' })
// openssl as a network client of our own listener must not block this process's event loop.
const opensslAsync = (...args: string[]): Promise<{ status: number | null, stdout: string, stderr: string }> => new Promise((resolve) => {
  const child = spawn('openssl', args)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => { stdout += d })
  child.stderr.on('data', (d) => { stderr += d })
  child.on('close', (status) => resolve({ status, stdout, stderr }))
})
const bundle = file('bundle.pem', (await (await request(`${ctx.publicUrl}/pki/ca.pem`)).body.text()))
const issuingPem = file('issuing.pem', ctx.services.authority.caBundlePem().split(/(?<=-----END CERTIFICATE-----\n)/)[0]!)
const sw = (await alice.call('POST', `/organisations/${alice.orgId}/software-statements`, { json: { client_name: 'Wallet', redirect_uris: ['https://wallet.example/cb'], roles: ['data-recipient'] } })).json()

async function issue (type: 'transport' | 'signing', csr = makeCsr(ecKey(), '/CN=evil/O=Other Bank/C=US')) {
  return alice.call('POST', `/organisations/${alice.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type, csr } })
}

t.test('openssl verifies issued transport and signing certificates; the profile is the directory\'s', async (t) => {
  const transport = await issue('transport')
  t.equal(transport.status, 201)
  const leaf = file('transport.pem', transport.json().certificate)
  const v = openssl('verify', '-CAfile', bundle, '-purpose', 'sslclient', leaf)
  t.equal(v.status, 0, v.stderr)
  t.match(v.stdout, /: OK/)
  const text = openssl('x509', '-in', leaf, '-noout', '-text', '-nameopt', 'RFC2253').stdout
  // The subject comes from the registry, never from the CSR (which asked for CN=evil, O=Other Bank, C=US).
  t.match(text, new RegExp(`Subject: CN=${sw.software_id},UID=${sw.software_id},organizationIdentifier=${alice.orgId},O=Alice Payments Ltd,C=GB`))
  t.notMatch(text, /evil|Other Bank/)
  t.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/)
  t.match(text, /CA:FALSE/)
  t.match(text, new RegExp(`OCSP - URI:${ctx.publicUrl}/pki/ocsp`))
  t.match(text, new RegExp(`URI:${ctx.publicUrl}/pki/crl`))
  t.match(text, /Serial Number:\s*\n?\s*[0-9a-f:]{40,}/)

  const signing = await issue('signing')
  const sleaf = file('signing.pem', signing.json().certificate)
  t.equal(openssl('verify', '-CAfile', bundle, sleaf).status, 0)
  // id-kp-documentSigning only (RFC 9336): a signing certificate never passes as a TLS client certificate
  t.not(openssl('verify', '-CAfile', bundle, '-purpose', 'sslclient', sleaf).status, 0)
  t.match(openssl('x509', '-in', sleaf, '-noout', '-text').stdout, /Digital Signature, Non Repudiation/)
  t.equal(signing.json()['x5t#S256'], Buffer.from(new X509Certificate(signing.json().certificate).fingerprint256.replace(/:/g, ''), 'hex').toString('base64url'))
})

t.test('bad CSRs are refused over HTTP with the reason, and change nothing', async (t) => {
  const before = await ctx.db.prisma.certificate.count()
  const cases: Array<[string, string, RegExp]> = [
    ['garbage', 'hello', /not .*(PEM|DER)|garbage|parse/i],
    ['a certificate', ctx.services.authority.caBundlePem(), /certificate|CSR/i],
    ['weak RSA', execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:1024', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=weak'], { encoding: 'utf8' }), /1024/],
    ['SHA-1', makeCsr(ecKey(), '/CN=sha1', ['-sha1']), /SHA-1/i],
  ]
  for (const [name, csr, reason] of cases) {
    const res = await issue('transport', csr)
    t.equal(res.status, 400, name)
    t.match(res.json(), { type: 'urn:ecosystem-directory:problem:invalid-csr', detail: reason }, name)
  }
  t.equal(await ctx.db.prisma.certificate.count(), before)
})

t.test('DNS names (serverAuth) only for data holders', async (t) => {
  const res = await alice.call('POST', `/organisations/${alice.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey()), dns_names: ['api.alice.example'] } })
  t.equal(res.status, 403)
  t.match(res.json().detail, /data-holder/)
  const bank = await enrolParticipant(ctx, { roles: ['data-holder'] })
  t.teardown(() => bank.close())
  const bsw = (await bank.call('POST', `/organisations/${bank.orgId}/software-statements`, { json: { client_name: 'Bank AS', redirect_uris: ['https://bank.example/cb'], roles: ['data-holder'] } })).json()
  const ok = await bank.call('POST', `/organisations/${bank.orgId}/software-statements/${bsw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey()), dns_names: ['api.bank.example'] } })
  t.equal(ok.status, 201)
  const text = openssl('x509', '-noout', '-text', '-in', file('server.pem', ok.json().certificate)).stdout
  t.match(text, /TLS Web Client Authentication, TLS Web Server Authentication|TLS Web Server Authentication, TLS Web Client Authentication/)
  t.match(text, /DNS:api\.bank\.example/)
  const local = await bank.call('POST', `/organisations/${bank.orgId}/software-statements/${bsw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey()), dns_names: ['localhost'] } })
  t.equal(local.status, 201, 'localhost, for development servers')
  const single = await bank.call('POST', `/organisations/${bank.orgId}/software-statements/${bsw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey()), dns_names: ['intranet'] } })
  t.equal(single.status, 400, 'other single-label names are refused')
  const wild = await bank.call('POST', `/organisations/${bank.orgId}/software-statements/${bsw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey()), dns_names: ['*.bank.example'] } })
  t.equal(wild.status, 400)
})

t.test('revocation shows at once in the CRL (verified by openssl) and in OCSP (openssl as client)', async (t) => {
  const issued = (await issue('transport')).json()
  const leaf = file('leaf.pem', issued.certificate)
  const ocsp = () => opensslAsync('ocsp', '-url', `${ctx.publicUrl}/pki/ocsp`, '-issuer', issuingPem, '-cert', leaf, '-CAfile', bundle)
  const good = await ocsp()
  t.equal(good.status, 0, good.stderr)
  t.match(good.stdout, /leaf\.pem: good/)
  t.match(good.stderr, /Response verify OK/)

  const crl1 = await request(`${ctx.publicUrl}/pki/crl`)
  t.equal(crl1.headers['content-type'], 'application/pkix-crl')
  t.ok(crl1.headers.etag)
  const crl1File = file('crl1.der', Buffer.from(await crl1.body.arrayBuffer()))
  const crl1Text = openssl('crl', '-inform', 'DER', '-in', crl1File, '-CAfile', bundle, '-noout', '-text')
  t.equal(crl1Text.status, 0, crl1Text.stderr)
  t.match(crl1Text.stderr, /verify OK/)
  t.notMatch(crl1Text.stdout, new RegExp(issued.serial.toUpperCase()))
  const number1 = Number(/X509v3 CRL Number: \n\s+(\d+)/.exec(crl1Text.stdout)?.[1])

  const revoked = await alice.call('POST', `/organisations/${alice.orgId}/certificates/${issued.serial}/revoke`, { json: { reason: 'keyCompromise' } })
  t.equal(revoked.status, 200)

  const crl2Text = openssl('crl', '-inform', 'DER', '-in', file('crl2.der', Buffer.from(await (await request(`${ctx.publicUrl}/pki/crl`)).body.arrayBuffer())), '-CAfile', bundle, '-noout', '-text')
  t.match(crl2Text.stderr, /verify OK/)
  t.match(crl2Text.stdout, new RegExp(`Serial Number: 0*${issued.serial.toUpperCase()}[\\s\\S]*?Key Compromise`))
  t.ok(Number(/X509v3 CRL Number: \n\s+(\d+)/.exec(crl2Text.stdout)?.[1]) > number1, 'the CRL number increases')
  const pemCrl = file('crl2.pem', openssl('crl', '-inform', 'DER', '-in', join(dir, 'crl2.der')).stdout)
  const rejected = openssl('verify', '-crl_check', '-CAfile', bundle, '-CRLfile', pemCrl, leaf)
  t.not(rejected.status, 0)
  t.match(rejected.stdout + rejected.stderr, /certificate revoked/)

  const after = await ocsp()
  t.match(after.stdout, /leaf\.pem: revoked/)
  t.match(after.stdout, /Reason: keyCompromise/)

  // GET form (RFC 6960 appendix A.1): the request DER, base64, in the path.
  const reqFile = join(dir, 'req.der')
  openssl('ocsp', '-issuer', issuingPem, '-cert', leaf, '-reqout', reqFile, '-no_nonce')
  const get = await request(`${ctx.publicUrl}/pki/ocsp/${encodeURIComponent(readFileSync(reqFile).toString('base64'))}`)
  t.equal(get.headers['content-type'], 'application/ocsp-response')
  const respFile = file('resp.der', Buffer.from(await get.body.arrayBuffer()))
  const viaGet = openssl('ocsp', '-respin', respFile, '-issuer', issuingPem, '-cert', leaf, '-CAfile', bundle)
  t.match(viaGet.stdout, /revoked/)
})

t.test('OCSP GET (RFC 5019): a pre-produced answer with ETag and Cache-Control, replaced on the next request after a revocation, on every instance', async (t) => {
  // A second instance on the same database: it learns of the revocation from the registry version alone.
  const other = await buildTestApp(t, { DIRECTORY_MASTER_KEY: ctx.config.DIRECTORY_MASTER_KEY! }, { db: { db: ctx.db, ...(ctx.dbUrl ? { url: ctx.dbUrl } : {}) } })
  const issued = (await issue('transport')).json()
  const leaf = file('cached-leaf.pem', issued.certificate)
  const reqFile = join(dir, 'cached-req.der')
  openssl('ocsp', '-issuer', issuingPem, '-cert', leaf, '-reqout', reqFile, '-no_nonce')
  const path = `/pki/ocsp/${encodeURIComponent(readFileSync(reqFile).toString('base64'))}`
  const status = (der: Buffer): string => openssl('ocsp', '-respin', file('cached-resp.der', der), '-issuer', issuingPem, '-cert', leaf, '-CAfile', bundle).stdout
  const get = async (base: string, headers: Record<string, string> = {}) => {
    const res = await request(`${base}${path}`, { headers })
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
  }
  const first = await get(ctx.publicUrl)
  const second = await get(ctx.publicUrl)
  t.match(status(first.body), /good/)
  t.ok(first.body.equals(second.body), 'the same pre-produced bytes')
  t.equal(first.headers.etag, second.headers.etag)
  t.match(first.headers['cache-control'], /^max-age=\d+, public, no-transform, must-revalidate$/)
  t.ok(first.headers['last-modified'] && first.headers.expires, 'Last-Modified is thisUpdate, Expires nextUpdate')
  t.equal((await get(ctx.publicUrl, { 'if-none-match': String(first.headers.etag) })).status, 304)
  const elsewhere = await get(other.publicUrl)
  t.match(status(elsewhere.body), /good/, 'the other instance has its own answer ready')

  // Revoked through the participant API on the first instance: its next answer says so …
  t.equal((await alice.call('POST', `/organisations/${alice.orgId}/certificates/${issued.serial}/revoke`, { json: { reason: 'keyCompromise' } })).status, 200)
  const after = await get(ctx.publicUrl, { 'if-none-match': String(first.headers.etag) })
  t.equal(after.status, 200, 'the old ETag no longer matches')
  t.match(status(after.body), /revoked/)
  t.not(after.headers.etag, first.headers.etag)
  // … and the other instance's once it has seen the registry version move (it polls every 100 ms in tests).
  let seen = ''
  for (let i = 0; i < 40 && !/revoked/.test(seen); i++) {
    seen = status((await get(other.publicUrl)).body)
    if (!/revoked/.test(seen)) await new Promise((r) => setTimeout(r, 50))
  }
  t.match(seen, /revoked/, 'the other instance answers revoked')
  // A POST with a nonce is answered afresh and echoes it.
  const post = await opensslAsync('ocsp', '-url', `${other.publicUrl}/pki/ocsp`, '-issuer', issuingPem, '-cert', leaf, '-CAfile', bundle)
  t.match(post.stdout, /revoked/)
  t.notMatch(post.stderr + post.stdout, /nonce/i, 'openssl found its nonce echoed')
})

t.test('OCSP: unknown serial, garbage request', async (t) => {
  const other = file('other.pem', execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=x', '-days', '1'], { encoding: 'utf8' }))
  const unknown = await opensslAsync('ocsp', '-url', `${ctx.publicUrl}/pki/ocsp`, '-issuer', issuingPem, '-cert', other, '-CAfile', bundle)
  // a certificate of a foreign issuer: we are not its responder (RFC 5019 §2.2.3)
  t.match(unknown.stdout + unknown.stderr, /unauthorized/)
  const garbage = await request(`${ctx.publicUrl}/pki/ocsp`, { method: 'POST', body: 'nonsense', headers: { 'content-type': 'application/ocsp-request' } })
  const body = Buffer.from(await garbage.body.arrayBuffer())
  // OCSPResponse { responseStatus malformedRequest (1) } = 30 03 0a 01 01
  t.same([...body], [0x30, 0x03, 0x0a, 0x01, 0x01])
})

t.test('public PKI documents carry ETag and Cache-Control; If-None-Match → 304', async (t) => {
  const first = await request(`${ctx.publicUrl}/pki/ca.pem`)
  await first.body.text()
  t.match(first.headers['cache-control'], /max-age=\d+/)
  const again = await request(`${ctx.publicUrl}/pki/ca.pem`, { headers: { 'if-none-match': String(first.headers.etag) } })
  t.equal(again.statusCode, 304)
  await again.body.text()
})

t.test('private keys are stored as ciphertext only', async (t) => {
  const rows = await ctx.db.prisma.$queryRawUnsafe<Array<{ purpose: string, ciphertext: Uint8Array, wrapped_key: Uint8Array }>>('SELECT purpose, ciphertext, wrapped_key FROM encrypted_keys')
  t.ok(rows.length >= 5, 'root, issuing, TLS server and two signing keys')
  const issuingPkcs8 = ctx.services.authority.material.issuer.privateKey.export({ format: 'der', type: 'pkcs8' })
  for (const r of rows) {
    const blob = Buffer.concat([Buffer.from(r.ciphertext), Buffer.from(r.wrapped_key)])
    t.notMatch(blob.toString('latin1'), /PRIVATE KEY/, r.purpose)
    t.equal(blob.indexOf(issuingPkcs8.subarray(0, 48)), -1, `${r.purpose}: no plaintext key material`)
  }
  const dump = JSON.stringify(await ctx.db.prisma.$queryRawUnsafe('SELECT * FROM authority_certificates'), (_k, v) => typeof v === 'bigint' ? String(v) : v)
  t.notMatch(dump, /PRIVATE KEY/)
})

t.test('CLI: issue a certificate from a CSR, check it with openssl, revoke it', async (t) => {
  const { url } = process.env.DATABASE_URL ? await testDatabase(t, { migrate: false }) : { url: undefined }
  const data = mkdtempSync(join(tmpdir(), 'cli-'))
  const env = { ...process.env, DATA_DIR: data, DATABASE_URL: url ?? '', LOG_LEVEL: 'warn' }
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { env, encoding: 'utf8', timeout: 120_000 })
  t.teardown(() => rmSync(data, { recursive: true, force: true }))
  const init = cli('init')
  t.equal(init.status, 0, init.stderr)
  t.match(init.stdout, /created the root CA and the issuing CA/)
  const again = cli('init')
  t.match(again.stdout, /nothing to do: the directory is initialised/, 'init is idempotent')
  t.equal((readFileSync(join(data, 'master.key')).length > 0), true)
  const org = cli('org:create', '--name', 'CLI Bank plc', '--registration', '12345678', '--country', 'GB', '--role', 'data-holder', '--active')
  t.equal(org.status, 0, org.stderr)
  const orgId = JSON.parse(org.stdout).id
  const csr = file('cli.csr', makeCsr(ecKey()))
  const issued = cli('cert:issue', '--org', orgId, '--type', 'transport', '--csr', csr)
  t.equal(issued.status, 0, issued.stderr)
  const chain = file('cli-chain.pem', issued.stdout)
  const leaf = file('cli-leaf.pem', issued.stdout.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!)
  const cliBundle = file('cli-bundle.pem', readFileSync(join(data, 'operator', 'ca.pem')))
  t.equal(openssl('verify', '-CAfile', cliBundle, leaf).status, 0)
  t.ok(chain)
  const serial = /serial ([0-9a-f]+)/.exec(issued.stderr)?.[1]
  const revoked = cli('cert:revoke', serial!, 'superseded')
  t.equal(revoked.status, 0, revoked.stderr)
  t.match(revoked.stdout, /"status": "revoked"/)
  const badReason = cli('cert:revoke', serial!, 'bored')
  t.equal(badReason.status, 2)
  const audit = cli('audit:verify')
  t.equal(audit.status, 0, audit.stdout)
  t.match(audit.stdout, /"ok": true/)
})
