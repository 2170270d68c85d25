import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr, operatorOf } from '../helpers/participant.js'

/** openssl's own reading of a certificate: the independent check of what the CA wrote. */
function opensslText (pem: string): { subject: string, text: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cert-'))
  try {
    writeFileSync(join(dir, 'c.pem'), pem)
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-noout', '-text', '-nameopt', 'oneline,-esc_msb'], { encoding: 'utf8' })
    const subject = execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb'], { encoding: 'utf8' }).trim()
    return { subject, text }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// The CSR asks for a subject of its own: the directory must ignore it.
const forged = '/C=XX/O=Forged Ltd/CN=evil.example/serialNumber=666'

async function onboard (t: Test, env: Record<string, string>) {
  const ctx = await buildTestApp(t, { ROLES: JSON.stringify({ 'data-recipient': ['openid'], aisp: ['openid'] }), ...env })
  const operator = operatorOf(ctx)
  t.teardown(() => operator.close())
  return { ctx, operator }
}

t.test('Open Finance Brasil client certificate subject', async (t) => {
  const { ctx, operator } = await onboard(t, { CERTIFICATE_PROFILE: 'obbr' })
  const org = await enrolParticipant(ctx, { roles: ['data-recipient'], legalName: 'Fintech Pagamentos SA' })
  t.teardown(() => org.close())
  const sw = (await org.call('POST', `/organisations/${org.orgId}/software-statements`, {
    json: { client_name: 'Pagamentos', client_uri: 'https://app.fintech.example', redirect_uris: ['https://app.fintech.example/cb'], roles: ['data-recipient'] },
  })).json()
  const orgRow = (await operator.call('GET', `/admin/organisations/${org.orgId}`, { scope: 'directory:admin' })).json()
  const cert = (await org.call('POST', `/organisations/${org.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey(), forged) } })).json()
  const { subject, text } = opensslText(cert.certificate)
  t.match(subject, `UID=${sw.software_id}`)
  t.match(subject, 'CN=app.fintech.example')
  t.match(subject, `organizationIdentifier=OFBBR-${org.orgId}`)
  t.match(subject, 'businessCategory=Private Organization')
  t.match(subject, 'jurisdictionC=GB')
  t.match(subject, `serialNumber=${orgRow.registration_number}`)
  t.match(subject, 'O=Fintech Pagamentos SA')
  t.match(text, /DNS:app\.fintech\.example/, 'the FQDN is also a dNSName SAN')
  t.match(text, /TLS Web Client Authentication/)
  t.notMatch(text, /TLS Web Server Authentication/, 'a client certificate, not a server one')
  t.notMatch(subject, /Forged|evil|666|XX/, 'nothing from the CSR subject')
})

t.test('UK certificate subject: ETSI organizationIdentifier', async (t) => {
  const { ctx, operator } = await onboard(t, { CERTIFICATE_PROFILE: 'uk' })
  const org = await enrolParticipant(ctx, { roles: ['aisp'], legalName: 'Movies Ltd' })
  t.teardown(() => org.close())
  t.equal((await operator.call('PATCH', `/admin/organisations/${org.orgId}`, {
    scope: 'directory:admin',
    json: { authority_claims: [{ role: 'aisp', authorisation_domain: 'PSD2', authority_id: 'FCAGBR', authority_name: 'Financial Conduct Authority', authority_code: 'FCA', registration_id: '123456', member_states: ['GB'] }] },
  })).status, 200)
  const sw = (await org.call('POST', `/organisations/${org.orgId}/software-statements`, { json: { client_name: 'Movies', redirect_uris: ['https://movies.example/cb'], roles: ['aisp'] } })).json()
  const cert = (await org.call('POST', `/organisations/${org.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'signing', csr: makeCsr(ecKey(), forged) } })).json()
  const { subject } = opensslText(cert.certificate)
  t.match(subject, 'organizationIdentifier=PSDGB-FCA-123456')
  t.match(subject, `CN=${sw.software_id}`)
  t.match(subject, `OU=${org.orgId}`)
  t.match(subject, 'O=Movies Ltd')
  t.notMatch(subject, /Forged|evil|666/)
})

t.test('CDR certificate subject: product name, brand, Consumer Data Right', async (t) => {
  const { ctx, operator } = await onboard(t, { CERTIFICATE_PROFILE: 'cdr', ECOSYSTEM_PROFILES: 'cdr' })
  const admin = { scope: 'directory:admin' }
  const org = await enrolParticipant(ctx, { roles: ['data-recipient'], legalName: 'Budget Apps Pty Ltd' })
  t.teardown(() => org.close())
  const brand = (await operator.call('POST', `/admin/organisations/${org.orgId}/brands`, { ...admin, json: { kind: 'data-recipient', name: 'Budget Buddy', logo_uri: 'https://budget.example/b.png', industries: ['banking'] } })).json()
  const sw = (await org.call('POST', `/organisations/${org.orgId}/software-statements`, { json: { client_name: 'Budget Buddy App', redirect_uris: ['https://budget.example/cb'], roles: ['data-recipient'] } })).json()
  t.equal((await operator.call('PUT', `/admin/organisations/${org.orgId}/software-statements/${sw.software_id}/software-product`, { ...admin, json: { brand_id: brand.id, recipient_base_uri: 'https://budget.example' } })).status, 200)
  const cert = (await org.call('POST', `/organisations/${org.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey(), forged) } })).json()
  const { subject } = opensslText(cert.certificate)
  t.match(subject, 'CN=Budget Buddy App')
  t.match(subject, 'OU=Consumer Data Right')
  t.match(subject, 'O=Budget Buddy')
  t.notMatch(subject, /Forged|evil|666/)
})
