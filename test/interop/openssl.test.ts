import t from 'tap'
import { interopArtefacts, missingTool, run } from '../helpers/interop.js'

// OpenSSL as a relying party: whole-chain CRL checking (-crl_check_all) with the CRLs named by the certificates'
// distribution points, and its OCSP client against the directory's responder for both levels of the chain.
const missing = missingTool('openssl')
if (missing) {
  t.plan(0, `${missing} is not installed (Debian openssl)`)
} else {
  const a = await interopArtefacts(t)
  const { files, crls } = a
  const verify = (args: string[], cert: string) =>
    run('openssl', ['verify', '-x509_strict', '-crl_check_all', '-CAfile', files.root, '-untrusted', files.issuing, ...args, cert], { cwd: a.dir })
  const bothCrls = ['-CRLfile', crls.issuingPem, '-CRLfile', crls.rootPem]

  t.test('the certificates name the CRLs: the issuing CA\'s for leaves, the root\'s for the issuing CA', async (t) => {
    t.equal(crls.urls.leaf, `${a.ctx.publicUrl}/pki/crl`)
    t.equal(crls.urls.issuing, `${a.ctx.publicUrl}/pki/root.crl`)
    const root = await run('openssl', ['crl', '-in', crls.rootPem, '-CAfile', files.root, '-noout', '-issuer'])
    t.equal(root.status, 0, 'exit 0', { output: root.out })
    t.match(root.out, /verify OK/)
    t.match(root.stdout, /CN ?= ?Ecosystem Directory Root CA/)
  })

  t.test('verify -crl_check_all: good chain accepted, revoked leaf refused', async (t) => {
    const good = await verify(['-purpose', 'sslclient', ...bothCrls], files.good)
    t.equal(good.status, 0, 'exit 0', { output: good.out })
    t.match(good.stdout, /good\.pem: OK/)
    const revoked = await verify(['-purpose', 'sslclient', ...bothCrls], files.revoked)
    t.not(revoked.status, 0)
    t.match(revoked.out, /error 23 at 0 depth lookup: certificate revoked/)
  })

  t.test('whole chain: without the root\'s CRL the issuing CA has no status and the chain is refused', async (t) => {
    const r = await verify(['-CRLfile', crls.issuingPem], files.good)
    t.not(r.status, 0)
    t.match(r.out, /error 3 at 1 depth lookup: unable to get certificate CRL/)
  })

  t.test('verify -crl_download fetches the CRLs from the distribution points itself', async (t) => {
    // OpenSSL also wants a CRL for the trust anchor (depth 2), which names no distribution point: the root's own
    // CRL, supplied as a file, covers it. The leaf's CRL is downloaded from the directory.
    const good = await verify(['-crl_download', '-CRLfile', crls.rootPem], files.good)
    t.equal(good.status, 0, 'exit 0', { output: good.out })
    const revoked = await verify(['-crl_download', '-CRLfile', crls.rootPem], files.revoked)
    t.match(revoked.out, /error 23 at 0 depth lookup: certificate revoked/)
  })

  t.test('a signing certificate is valid but refused for TLS client authentication', async (t) => {
    const plain = await verify(bothCrls, files.signing)
    t.equal(plain.status, 0, 'exit 0', { output: plain.out })
    const tls = await verify(['-purpose', 'sslclient', ...bothCrls], files.signing)
    t.not(tls.status, 0)
    t.match(tls.out, /unsuitable certificate purpose|unsupported certificate purpose/)
  })

  t.test('openssl ocsp asks the responder about each level; responses verify against the root', async (t) => {
    const ask = (issuer: string, cert: string) =>
      run('openssl', ['ocsp', '-url', `${a.ctx.publicUrl}/pki/ocsp`, '-issuer', issuer, '-cert', cert, '-CAfile', files.root, '-resp_text'], { cwd: a.dir })
    const good = await ask(files.issuing, files.good)
    t.equal(good.status, 0, 'exit 0', { output: good.out })
    t.match(good.out, /Response verify OK/)
    t.match(good.stdout, /good\.pem: good/)
    const revoked = await ask(files.issuing, files.revoked)
    t.match(revoked.out, /Response verify OK/)
    t.match(revoked.stdout, /revoked\.pem: revoked/)
    t.match(revoked.stdout, /Reason: keyCompromise/)
    // the issuing CA, answered and signed by the root; the signer's certificate travels in the response
    const issuing = await ask(files.root, files.issuing)
    t.equal(issuing.status, 0, 'exit 0', { output: issuing.out })
    t.match(issuing.out, /Response verify OK/)
    t.match(issuing.stdout, /issuing\.pem: good/)
    t.match(issuing.stdout, /Responder Id: [\s\S]*Certificate:[\s\S]*Subject: O ?= ?Ecosystem Directory, CN ?= ?Ecosystem Directory Root CA/)
  })
}
