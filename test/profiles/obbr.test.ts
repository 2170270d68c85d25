import t from 'tap'
import { checkRegistrationAgainstSsa, verifySoftwareStatement } from '@ecosystem-directory/sdk'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { request } from 'undici'
import { buildTestApp } from '../helpers/app.js'
import { loadSpec, observed } from '../helpers/openapi.js'
import { ecKey, enrolParticipant, makeCsr, operatorOf } from '../helpers/participant.js'

const uuidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

t.test('Open Finance Brasil profile: participants list, SSA and keystores as the official documents say', async (t) => {
  const participantsSpec = await loadSpec('obbr-participants-openapi.yaml')
  const directorySpec = await loadSpec('obbr-directory-openapi.yaml')
  const ctx = await buildTestApp(t, {
    ECOSYSTEM_PROFILES: 'obbr', ROLES: JSON.stringify({ dados: ['openid', 'accounts'], pagto: ['openid', 'payments'], 'data-holder': ['openid'] }),
    OBBR_SSA_ISSUER: 'Open Banking Open Banking Brasil prod SSA issuer',
  })
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const r = await request(url, { headers })
    return { status: r.statusCode, headers: r.headers as Record<string, unknown>, text: await r.body.text() }
  }
  const operator = operatorOf(ctx)
  t.teardown(() => operator.close())
  const admin = { scope: 'directory:admin' }

  // Discovery names the profile's bases.
  const discovery = JSON.parse((await get(`${ctx.publicUrl}/.well-known/openid-configuration`)).text)
  t.same(discovery.ecosystem_profiles, { obbr: { public: `${ctx.publicUrl}/obbr`, protected: `${ctx.mtlsUrl}/obbr` } })

  // The operator onboards a recipient with registry data the profile needs, through the admin API.
  const fintech = await enrolParticipant(ctx, { roles: ['dados', 'pagto'], legalName: 'Fintech Pagamentos SA' })
  t.teardown(() => fintech.close())
  const claims = [
    { role: 'dados', authorisation_domain: 'Open Banking', authority_id: 'a7d7f2ed-3d3a-4a1e-a6c0-1f2b3c4d5e6f', authority_name: 'BCB', authority_code: 'BCB', registration_id: '13353236', member_states: ['BR'] },
    { role: 'pagto', authorisation_domain: 'Open Banking', authority_id: 'a7d7f2ed-3d3a-4a1e-a6c0-1f2b3c4d5e6f', authority_name: 'BCB', authority_code: 'BCB', registration_id: '13353236' },
  ]
  const patched = await operator.call('PATCH', `/admin/organisations/${fintech.orgId}`, { ...admin, json: { company_register: 'Cadastro Nacional da Pessoa Jurídica', registration_id: '5493001KJTIIGC8Y1R12', authority_claims: claims } })
  t.equal(patched.status, 200, patched.text)
  t.match(patched.json(), { company_register: 'Cadastro Nacional da Pessoa Jurídica', authority_claims: [{ role: 'dados', member_states: ['BR'], status: 'active' }, { role: 'pagto', member_states: [] }] })
  const badClaim = await operator.call('PATCH', `/admin/organisations/${fintech.orgId}`, { ...admin, json: { authority_claims: [{ ...claims[0], role: 'nope' }] } })
  t.equal(badClaim.status, 400, 'an authority claim names a configured role')
  const audit = (await operator.call('GET', `/admin/audit?target=organisation:${fintech.orgId}`, admin)).json()
  t.ok(audit.events.some((e: any) => e.action === 'organisation.update' && e.after.authority_claims.length === 2), 'the change is audited')

  // A bank with an authorisation server and its API discovery endpoints.
  const bank = await enrolParticipant(ctx, { roles: ['data-holder'], legalName: 'Banco Exemplo SA' })
  t.teardown(() => bank.close())
  const as = await operator.call('POST', `/admin/organisations/${bank.orgId}/authorisation-servers`, {
    ...admin,
    json: {
      issuer: 'https://auth.banco.example', discovery_url: 'https://auth.banco.example/.well-known/openid-configuration', customer_friendly_name: 'Banco Exemplo',
      logo_uri: 'https://banco.example/logo.svg',
      api_resources: [{ family: 'accounts', version: '2.0', base_url: 'https://api.banco.example/open-banking/accounts/v2', discovery_endpoints: ['https://api.banco.example/open-banking/accounts/v2/accounts'] }],
    },
  })
  t.equal(as.status, 201, as.text)

  // The software statement, with environment, and its keys.
  const sw = (await fintech.call('POST', `/organisations/${fintech.orgId}/software-statements`, {
    json: { client_name: 'Pagamentos App', redirect_uris: ['https://app.fintech.example/cb'], roles: ['dados', 'pagto'], environment: 'production', logo_uri: 'https://fintech.example/logo.png' },
  })).json()
  t.equal(sw.environment, 'production')
  const signing = (await fintech.call('POST', `/organisations/${fintech.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'signing', csr: makeCsr(ecKey()) } })).json()
  const transport = (await fintech.call('POST', `/organisations/${fintech.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey()) } })).json()

  await t.test('participants list validates against obbr-participants-openapi.yaml', async (t) => {
    const res = await get(`${ctx.publicUrl}/obbr/participants`, { 'x-fapi-interaction-id': 'c0ffee00-1234-4567-89ab-0123456789ab' })
    t.equal(res.status, 200)
    t.same(participantsSpec.problems('/participants', 'get', observed(res)), [])
    t.equal(res.headers['x-fapi-interaction-id'], 'c0ffee00-1234-4567-89ab-0123456789ab', 'the interaction id is echoed')
    const list = JSON.parse(res.text) as any[]
    const f = list.find((p) => p.OrganisationId === fintech.orgId)
    t.match(f, {
      Status: 'Active', OrganisationName: 'Fintech Pagamentos SA', LegalEntityName: 'Fintech Pagamentos SA', CountryOfRegistration: 'GB',
      CompanyRegister: 'Cadastro Nacional da Pessoa Jurídica', RegistrationId: '5493001KJTIIGC8Y1R12',
      OrgDomainClaims: [{ AuthorisationDomainName: 'Open Banking', AuthorityName: 'BCB', Status: 'Active', OrganisationAuthorityDomainClaimId: uuidRe }],
      OrgDomainRoleClaims: [
        { Role: 'DADOS', Status: 'Active', AuthorisationDomain: 'Open Banking', RegistrationId: '13353236', Authorisations: [{ Status: 'Active', MemberState: 'BR' }] },
        { Role: 'PAGTO', Status: 'Active' },
      ],
    })
    t.notOk('SoftwareStatements' in f, 'software statements are not in the public list')
    const b = list.find((p) => p.OrganisationId === bank.orgId)
    t.match(b.AuthorisationServers, [{
      OrganisationId: bank.orgId, Issuer: 'https://auth.banco.example', OpenIDDiscoveryDocument: 'https://auth.banco.example/.well-known/openid-configuration',
      CustomerFriendlyName: 'Banco Exemplo', CustomerFriendlyLogoUri: 'https://banco.example/logo.svg',
      ApiResources: [{ ApiFamilyType: 'accounts', ApiVersion: '2.0.0', ApiResourceId: uuidRe, ApiDiscoveryEndpoints: [{ ApiEndpoint: 'https://api.banco.example/open-banking/accounts/v2/accounts', ApiDiscoveryId: uuidRe }] }],
    }])
    t.match(b.OrgDomainRoleClaims, [{ Role: 'DATA_HOLDER', Status: 'Active', AuthorisationDomain: 'Open Banking' }], 'a role without an authority claim shows in the default domain')
    const again = await get(`${ctx.publicUrl}/obbr/participants`, { 'if-none-match': String(res.headers.etag) })
    t.equal(again.status, 304)
  })

  let ssa = ''
  await t.test('SSA at the Raidiam Connect path validates and carries every OBBR claim', async (t) => {
    const path = `/obbr/organisations/${fintech.orgId}/softwarestatements/${sw.software_id}/assertion`
    const res = await fintech.call('GET', path, { scope: 'directory:software' })
    t.equal(res.status, 200, res.text)
    t.same(directorySpec.problems('/organisations/{OrganisationId}/softwarestatements/{SoftwareStatementId}/assertion', 'get', observed(res)), [])
    ssa = res.text
    const jwks = createRemoteJWKSet(new URL(`${ctx.publicUrl}/obbr/openbanking.jwks`))
    const { payload, protectedHeader } = await jwtVerify(ssa, jwks, { issuer: 'Open Banking Open Banking Brasil prod SSA issuer' })
    t.match(protectedHeader, { alg: 'PS256', typ: 'JWT', kid: String })
    const ks = `${ctx.publicUrl}/obbr/${fintech.orgId}`
    t.match(payload, {
      software_id: sw.software_id, software_client_id: sw.software_id, software_client_name: 'Pagamentos App', software_version: '1',
      software_mode: 'Live', software_environment: 'production', software_redirect_uris: ['https://app.fintech.example/cb'],
      software_logo_uri: 'https://fintech.example/logo.png', software_roles: ['DADOS', 'PAGTO'],
      software_statement_roles: [{ role: 'DADOS', authorisation_domain: 'Open Banking', status: 'Active' }, { role: 'PAGTO', authorisation_domain: 'Open Banking', status: 'Active' }],
      software_jwks_uri: `${ks}/${sw.software_id}/application.jwks`,
      software_jwks_inactive_uri: `${ks}/${sw.software_id}/inactive/application.jwks`,
      software_jwks_transport_uri: `${ks}/${sw.software_id}/transport.jwks`,
      software_jwks_transport_inactive_uri: `${ks}/${sw.software_id}/inactive/transport.jwks`,
      org_id: fintech.orgId, org_name: 'Fintech Pagamentos SA', org_status: 'Active', org_jwks_uri: `${ks}/application.jwks`,
      organisation_competent_authority_claims: [
        { authority_id: claims[0]!.authority_id, authority_name: 'BCB', authority_code: 'BCB', registration_id: '13353236', authorisation_domain: 'Open Banking', authorisation_role: 'DADOS', status: 'Active', authorisations: [{ member_state: 'BR', status: 'Active' }] },
        { authorisation_role: 'PAGTO', authorisations: [] },
      ],
    })
    t.type(payload.org_number, 'string')
    t.type(payload.iat, 'number')
    t.type(payload.jti, 'string')
    t.notOk('software_client_uri' in payload, 'absent values are omitted, never null')
    const sdkClaims = await verifySoftwareStatement(ssa, {
      profile: 'obbr', issuer: 'Open Banking Open Banking Brasil prod SSA issuer', jwksUri: `${ctx.publicUrl}/obbr/openbanking.jwks`, participantsUri: `${ctx.publicUrl}/participants`,
    })
    t.equal(sdkClaims.org_id, fintech.orgId, 'the SDK verifies the OBBR claim set')
    t.doesNotThrow(() => checkRegistrationAgainstSsa({ redirect_uris: ['https://app.fintech.example/cb'], jwks_uri: payload.software_jwks_uri as string }, sdkClaims))
    t.throws(() => checkRegistrationAgainstSsa({ redirect_uris: ['https://other.example/cb'] }, sdkClaims), { code: 'ERR_REDIRECT_URI' })
    t.notOk(Object.values(payload).includes(null))
  })

  await t.test('every keystore URL in the SSA answers with the right keys; revocation moves a key to inactive', async (t) => {
    const payload = JSON.parse(Buffer.from(ssa.split('.')[1]!, 'base64url').toString())
    const keys = async (url: string) => JSON.parse((await get(url)).text).keys.map((k: any) => k.kid)
    t.same(await keys(payload.software_jwks_uri), [signing['x5t#S256']])
    t.same(await keys(payload.software_jwks_transport_uri), [transport['x5t#S256']])
    t.same(await keys(payload.software_jwks_inactive_uri), [])
    t.same(await keys(payload.software_jwks_transport_inactive_uri), [])
    t.same(await keys(payload.org_jwks_uri), [signing['x5t#S256']])
    const app = JSON.parse((await get(payload.software_jwks_uri)).text).keys[0]
    t.match(app, { use: 'sig', x5c: [String, String], 'x5t#S256': signing['x5t#S256'] })

    const revoked = await fintech.call('POST', `/organisations/${fintech.orgId}/certificates/${signing.serial}/revoke`, { json: { reason: 'keyCompromise' } })
    t.equal(revoked.status, 200, revoked.text)
    t.same(await keys(payload.software_jwks_uri), [])
    t.same(await keys(payload.software_jwks_inactive_uri), [signing['x5t#S256']])
    t.same(await keys(`${ctx.publicUrl}/obbr/${fintech.orgId}/inactive/application.jwks`), [signing['x5t#S256']])

    const missing = await get(`${ctx.publicUrl}/obbr/${fintech.orgId}/00000000-0000-4000-8000-000000000000/application.jwks`)
    t.equal(missing.status, 404)
    t.match(JSON.parse(missing.text), { errors: [/no software statement/] })
    const badPath = await get(`${ctx.publicUrl}/obbr/${fintech.orgId}/${sw.software_id}/signing.jwks`)
    t.equal(badPath.status, 400)
    t.match(JSON.parse(badPath.text), { errors: [String] })
  })

  await t.test('SSA refusals in the Raidiam error format', async (t) => {
    const path = `/obbr/organisations/${fintech.orgId}/softwarestatements/${sw.software_id}/assertion`
    const spec = '/organisations/{OrganisationId}/softwarestatements/{SoftwareStatementId}/assertion'
    const noToken = await fintech.http.call('GET', path)
    t.equal(noToken.status, 401)
    t.same(directorySpec.problems(spec, 'get', observed(noToken)), [])
    const readOnly = await fintech.call('GET', path, { scope: 'directory:read' })
    t.equal(readOnly.status, 403, 'the document asks for directory:software')
    t.same(directorySpec.problems(spec, 'get', observed(readOnly)), [])
    const other = await bank.call('GET', path, { scope: 'directory:software' })
    t.equal(other.status, 404, "another organisation's software is not found")

    // Suspension shows up in the list's Status and stops SSAs on the next request, even with a token issued before.
    const readOnlyToken = await fintech.token('directory:software')
    t.equal((await operator.call('PATCH', `/admin/organisations/${fintech.orgId}`, { ...admin, json: { status: 'suspended' } })).status, 200)
    const list = JSON.parse((await get(`${ctx.publicUrl}/obbr/participants`)).text) as any[]
    t.equal(list.find((p) => p.OrganisationId === fintech.orgId).Status, 'Pending')
    const suspended = await fintech.call('GET', path, { token: readOnlyToken })
    t.equal(suspended.status, 403)
    t.same(directorySpec.problems(spec, 'get', observed(suspended)), [])
    t.match(JSON.parse(suspended.text), { errors: [/suspended/] })
    t.equal((await operator.call('PATCH', `/admin/organisations/${fintech.orgId}`, { ...admin, json: { status: 'revoked' } })).status, 200)
    const after = JSON.parse((await get(`${ctx.publicUrl}/obbr/participants`)).text) as any[]
    t.equal(after.find((p) => p.OrganisationId === fintech.orgId).Status, 'Withdrawn')
    t.same(participantsSpec.problems('/participants', 'get', observed(await get(`${ctx.publicUrl}/obbr/participants`))), [])
    t.same(JSON.parse((await get(`${ctx.publicUrl}/obbr/${fintech.orgId}/${sw.software_id}/transport.jwks`)).text).keys, [], 'revoking the organisation empties its keystores')
  })
})

t.test('profiles are off unless configured', async (t) => {
  const ctx = await buildTestApp(t)
  const res = await ctx.app.inject({ url: '/obbr/participants' })
  t.equal(res.statusCode, 404)
  t.notOk('ecosystem_profiles' in JSON.parse((await ctx.app.inject({ url: '/.well-known/openid-configuration' })).body))
})
