import { readFileSync, writeFileSync } from 'node:fs'
import t from 'tap'
import { interopArtefacts, missingTool, run } from '../helpers/interop.js'

// GnuTLS as a relying party (Debian gnutls-bin): certtool verifies each chain against the root with the CRLs
// fetched from the distribution points; ocsptool asks the directory's responder about every level of the chain.
const missing = missingTool('certtool', 'ocsptool')
if (missing) {
  t.plan(0, `${missing} is not installed (Debian gnutls-bin; .ci/run installs it)`)
} else {
  const a = await interopArtefacts(t)
  const { files, crls, path } = a
  const cat = (name: string, ...parts: string[]): string => {
    writeFileSync(path(name), parts.map((p) => readFileSync(p, 'utf8')).join(''))
    return path(name)
  }
  const allCrls = cat('crls.pem', crls.issuingPem, crls.rootPem)
  const certtool = (chain: string, extra: string[] = []) => run('certtool', [
    '--verify', '--verify-profile', 'medium', '--load-ca-certificate', files.root, '--load-crl', allCrls, ...extra, '--infile', chain,
  ], { cwd: a.dir })

  t.test('each CRL verifies against its issuer', async (t) => {
    const root = await run('certtool', ['--verify-crl', '--load-ca-certificate', files.root, '--infile', crls.rootPem])
    t.equal(root.status, 0, 'root CRL', { output: root.out })
    t.match(root.out, /Verification output: Verified/)
    const issuing = await run('certtool', ['--verify-crl', '--load-ca-certificate', files.issuing, '--infile', crls.issuingPem])
    t.match(issuing.out, /Verification output: Verified/)
  })

  t.test('certtool --verify with both CRLs: good chain verified at every level, revoked refused', async (t) => {
    const good = await certtool(cat('good-chain.pem', files.good, files.issuing))
    t.equal(good.status, 0, 'exit 0', { output: good.out })
    t.match(good.out, /Chain verification output: Verified\. The certificate is trusted\./)
    // whole chain: the issuing CA against the root's CRL, the leaf against the issuing CA's
    t.match(good.out, /Subject: CN=Ecosystem Directory Issuing CA,O=Ecosystem Directory\n[^\n]*\n[^\n]*\n\s*Checked against CRL\[\d+\] of: CN=Ecosystem Directory Root CA/)
    t.match(good.out, /Checked against CRL\[\d+\] of: CN=Ecosystem Directory Issuing CA/)
    const revoked = await certtool(cat('revoked-chain.pem', files.revoked, files.issuing))
    t.not(revoked.status, 0)
    t.match(revoked.out, /Chain verification output: Not verified\.[^\n]*The certificate chain is revoked/)
  })

  t.test('a signing certificate is refused for TLS client authentication (--verify-purpose clientAuth)', async (t) => {
    const clientAuth = ['--verify-purpose', '1.3.6.1.5.5.7.3.2']
    const good = await certtool(path('good-chain.pem'), clientAuth)
    t.match(good.out, /Chain verification output: Verified/)
    const signingChain = cat('signing-chain.pem', files.signing, files.issuing)
    t.match((await certtool(signingChain)).out, /Chain verification output: Verified/, 'valid as such')
    const signing = await certtool(signingChain, clientAuth)
    t.match(signing.out, /Chain verification output: Not verified\.[^\n]*does not match the intended purpose/)
  })

  const ocspUrl = `${a.ctx.publicUrl}/pki/ocsp`
  const ask = (issuer: string, cert: string, out: string) =>
    run('ocsptool', [`--ask=${ocspUrl}`, '--load-issuer', issuer, '--load-cert', cert, '--outfile', path(out)], { cwd: a.dir })

  t.test('ocsptool --ask: leaf good / revoked, issuing CA good (signed by the root); responses verify', async (t) => {
    const good = await ask(files.issuing, files.good, 'good.ocsp')
    t.equal(good.status, 0, 'exit 0', { output: good.out })
    t.match(good.out, /Certificate Status: good/)
    t.match(good.out, /Verifying OCSP Response: Success\./)
    const revoked = await ask(files.issuing, files.revoked, 'revoked.ocsp')
    t.match(revoked.out, /Certificate Status: revoked/)
    t.match(revoked.out, /Verifying OCSP Response: Success\./)
    const issuing = await ask(files.root, files.issuing, 'issuing.ocsp')
    t.match(issuing.out, /Certificate Status: good/)
    t.match(issuing.out, /Verifying OCSP Response: Success\./)

    // --verify-response: the root's answer against the root as trust anchor; the issuing CA's answers against it as
    // the signer (GnuTLS takes a signer that is not itself a trust anchor for a delegated responder).
    const byRoot = await run('ocsptool', ['--verify-response', '--load-trust', files.root, '--infile', path('issuing.ocsp')])
    t.equal(byRoot.status, 0, 'root-signed response verifies', { output: byRoot.out })
    t.match(byRoot.out, /Verifying OCSP Response: Success\./)
    for (const name of ['good.ocsp', 'revoked.ocsp']) {
      const r = await run('ocsptool', ['--verify-response', '--load-signer', files.issuing, '--infile', path(name)])
      t.equal(r.status, 0, name, { output: r.out })
    }
    const wrongSigner = await run('ocsptool', ['--verify-response', '--load-signer', files.root, '--infile', path('good.ocsp')])
    t.not(wrongSigner.status, 0, 'not signed by the root')
  })

  t.test('ocsptool --ask --load-chain asks about every certificate of the chain at its own AIA responder', async (t) => {
    const status = (out: string) => [...out.matchAll(/Certificate Status: (\w+)/g)].map((m) => m[1])
    const good = await run('ocsptool', ['--ask', '--load-chain', cat('good-full.pem', files.good, files.issuing, files.root)], { cwd: a.dir })
    t.same(status(good.out), ['good', 'good'], 'leaf and issuing CA')
    t.equal(good.out.match(/Verifying OCSP Response: Success\./g)?.length, 2, 'both responses verify', { output: good.out })
    const revoked = await run('ocsptool', ['--ask', '--load-chain', cat('revoked-full.pem', files.revoked, files.issuing, files.root)], { cwd: a.dir })
    t.same(status(revoked.out), ['revoked', 'good'])
  })
}
