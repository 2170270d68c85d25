import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { AuditLog } from '../../src/audit/audit-log.js'
import { loadConfig } from '../../src/config.js'
import { initDirectory } from '../../src/init.js'
import { loadMasterKey } from '../../src/keys/master-key.js'
import { KeyVault } from '../../src/keys/vault.js'
import { importAuthority, loadAuthority } from '../../src/pki/ca-store.js'
import { TestClock } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'

// An ecosystem may bring its own CA: made here with openssl, imported, then used by init and issuance.
const dir = mkdtempSync(join(tmpdir(), 'import-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const f = (n: string) => join(dir, n)
const ssl = (...a: string[]) => execFileSync('openssl', a, { stdio: ['ignore', 'ignore', 'pipe'] })
writeFileSync(f('ext.cnf'), 'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n')
ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', f('root.key'), '-out', f('root.pem'), '-subj', '/O=Own Ecosystem/CN=Own Root', '-days', '3650')
ssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('issuing.key'), '-out', f('issuing.csr'), '-subj', '/O=Own Ecosystem/CN=Own Issuing')
ssl('x509', '-req', '-in', f('issuing.csr'), '-CA', f('root.pem'), '-CAkey', f('root.key'), '-CAcreateserial', '-out', f('issuing.pem'), '-days', '1825', '-extfile', f('ext.cnf'))
const read = (n: string) => readFileSync(f(n), 'utf8')

t.test('import an existing issuing CA, then init and issue under it', async (t) => {
  const { db } = await testDatabase(t)
  const config = loadConfig({ DATA_DIR: dir, DIRECTORY_MASTER_KEY: randomBytes(32).toString('base64') })
  const clock = new TestClock()
  const d = { prisma: db.prisma, vault: new KeyVault(await loadMasterKey(config, db.prisma)), audit: new AuditLog(clock), clock, config }
  await t.rejects(importAuthority(d, { issuingCertPem: read('issuing.pem'), issuingKeyPem: read('root.key'), rootCertPem: read('root.pem') }, { actor: 'test' }), /does not match/)
  await t.rejects(importAuthority(d, { issuingCertPem: read('issuing.pem'), issuingKeyPem: read('issuing.key'), rootCertPem: read('issuing.pem') }, { actor: 'test' }), /not signed by the given root|CA certificates/)
  await importAuthority(d, { issuingCertPem: read('issuing.pem'), issuingKeyPem: read('issuing.key'), rootCertPem: read('root.pem') }, { actor: 'test' })
  const report = await initDirectory(config, db, clock)
  t.match(report.messages[0], /exists: unchanged/, 'init keeps the imported CA')
  const material = await loadAuthority(db.prisma, d.vault)
  writeFileSync(f('tls.pem'), material.tls[0]!.certPem)
  const v = spawnSync('openssl', ['verify', '-CAfile', f('root.pem'), '-untrusted', f('issuing.pem'), f('tls.pem')], { encoding: 'utf8' })
  t.equal(v.status, 0, v.stderr)
  t.ok(readFileSync(join(dir, 'operator', 'ca.pem'), 'utf8').includes(read('root.pem').trim()), 'the published bundle carries the imported root')
  await t.rejects(importAuthority(d, { issuingCertPem: read('issuing.pem'), issuingKeyPem: read('issuing.key'), rootCertPem: read('root.pem') }, { actor: 'test' }), /already has an issuing CA/)
})
