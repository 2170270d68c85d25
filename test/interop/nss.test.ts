import t from 'tap'
import { interopArtefacts, missingTool, run } from '../helpers/interop.js'

// NSS as a relying party (Debian libnss3-tools): vfychain with libpkix (-pp), the root trusted in a fresh certutil
// database, revocation required for the leaf (-g leaf) and for the CA certificates above it (-g chain), fetched by
// NSS itself from the certificates' OCSP and CRL pointers. This directory runs an RSA CA, the others EC.
const missing = missingTool('certutil', 'vfychain')
if (missing) {
  t.plan(0, `${missing} is not installed (Debian libnss3-tools; .ci/run installs it)`)
} else {
  const a = await interopArtefacts(t, { CA_ROOT_KEY: 'rsa-3072', CA_ISSUING_KEY: 'rsa-2048' })
  const { files } = a
  const db = `sql:${a.path('nssdb')}`
  await run('mkdir', [a.path('nssdb')])
  const created = await run('certutil', ['-N', '-d', db, '--empty-password'])
  if (created.status !== 0) throw new Error(created.out)
  // trusted to issue TLS server (C) and client (T) certificates
  const added = await run('certutil', ['-A', '-d', db, '-n', 'Ecosystem Directory Root CA', '-t', 'CT,C,C', '-a', '-i', files.root])
  if (added.status !== 0) throw new Error(added.out)

  const required = 'failIfNoInfo,requireInfo'
  /** Usage 0 = SSL client. `chainFlags` adds method flags for the CA certificates' test. */
  const vfychain = (method: 'ocsp' | 'crl', leaf: string, chainFlags = '') => run('vfychain', [
    '-d', db, '-pp', '-u', '0',
    '-g', 'leaf', '-h', 'requireFreshInfo', '-m', method, '-s', required,
    '-g', 'chain', '-h', 'requireFreshInfo', '-m', method, '-s', required + chainFlags,
    '-a', leaf, '-a', files.issuing,
  ], { cwd: a.dir })

  for (const method of ['ocsp', 'crl'] as const) {
    t.test(`vfychain, ${method} required for leaf and chain: good accepted, revoked refused`, async (t) => {
      const good = await vfychain(method, files.good)
      t.equal(good.status, 0, 'exit 0', { output: good.out })
      t.match(good.out, /Chain is good!/)
      const revoked = await vfychain(method, files.revoked)
      t.not(revoked.status, 0)
      t.match(revoked.out, /Chain is bad![\s\S]*ERROR -8180: Peer's Certificate has been revoked/)
    })

    t.test(`whole chain (${method}): forbidden to fetch the issuing CA's status, the good chain is refused`, async (t) => {
      const r = await vfychain(method, files.good, ',forbidFetching')
      t.not(r.status, 0)
      t.match(r.out, /Chain is bad!/)
    })
  }

  t.test('a signing certificate is not approved for SSL client usage', async (t) => {
    const r = await vfychain('ocsp', files.signing)
    t.not(r.status, 0)
    t.match(r.out, /ERROR -8101: Certificate type not approved for application/)
  })
}
