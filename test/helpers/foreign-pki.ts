import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Certificates the directory did not issue, made with openssl: a self-signed one and one from another CA. */
export function foreignCertificates (): { selfSigned: { key: string, cert: string }, otherCa: { key: string, cert: string } } {
  const dir = mkdtempSync(join(tmpdir(), 'foreign-'))
  const f = (n: string) => join(dir, n)
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  try {
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('self.key'), '-out', f('self.pem'), '-subj', '/CN=self-signed', '-days', '2')
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/CN=Other CA', '-days', '2')
    ssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=other-leaf')
    ssl('x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('leaf.pem'), '-days', '2')
    const read = (n: string) => readFileSync(f(n), 'utf8')
    return { selfSigned: { key: read('self.key'), cert: read('self.pem') }, otherCa: { key: read('leaf.key'), cert: read('leaf.pem') + read('ca.pem') } }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
