import t from 'tap'
import { checkRegistrationAgainstSsa, verifySoftwareStatement } from '@ecosystem-directory/sdk'
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose'
import { request } from 'undici'
import { fromUkId, toBase62 } from '../../src/profiles/uk/ids.js'
import { buildTestApp } from '../helpers/app.js'
import { loadSpec, observed } from '../helpers/openapi.js'
import { ecKey, enrolParticipant, makeCsr, operatorOf } from '../helpers/participant.js'

const ssaPath = '/v2.1/organisation/{OrganisationId}/software-statement/{SoftwareStatementId}/software-statement-assertion'

t.test('base-62 GUIDs round-trip and refuse what is not one', async (t) => {
  for (const u of ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '65d1f27c-4aea-4549-9c21-60e495a7a86f']) {
    const b = toBase62(u)
    t.match(b, /^[0-9A-Za-z]{22}$/)
    t.equal(fromUkId(b), u)
  }
  t.equal(fromUkId('zzzzzzzzzzzzzzzzzzzzzz'), undefined, 'beyond 128 bits')
  t.equal(fromUkId('not-an-id'), undefined)
})

t.test('UK Open Banking profile: OBIE SSA and keystores as the Directory API 2.2 says', async (t) => {
  const spec = await loadSpec('uk-directory-openapi.yaml')
  const ctx = await buildTestApp(t, {
    ECOSYSTEM_PROFILES: 'uk', ROLES: JSON.stringify({ aisp: ['openid', 'accounts'], pisp: ['openid', 'payments'], aspsp: ['openid'] }),
    UK_SSA_ISSUER: 'OpenBanking Ltd',
  })
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const r = await request(url, { headers })
    return { status: r.statusCode, headers: r.headers as Record<string, unknown>, text: await r.body.text() }
  }
  const operator = operatorOf(ctx)
  t.teardown(() => operator.close())
  const admin = { scope: 'directory:admin' }

  const discovery = JSON.parse((await get(`${ctx.publicUrl}/.well-known/openid-configuration`)).text)
  t.same(discovery.ecosystem_profiles, { uk: { public: `${ctx.publicUrl}/uk`, protected: `${ctx.mtlsUrl}/uk` } })

  // Onboarding through the admin API, with the competent authority's claims.
  const tpp = await enrolParticipant(ctx, { roles: ['aisp', 'pisp'], legalName: 'Movies Ltd' })
  t.teardown(() => tpp.close())
  const fca = { authorisation_domain: 'PSD2', authority_id: 'FCAGBR', authority_name: 'Financial Conduct Authority', registration_id: '111111' }
  const patched = await operator.call('PATCH', `/admin/organisations/${tpp.orgId}`, {
    ...admin,
    json: { authority_claims: [{ ...fca, role: 'aisp', member_states: ['GB', 'IE'] }, { ...fca, role: 'pisp', member_states: ['GB'] }] },
  })
  t.equal(patched.status, 200, patched.text)
  // Contacts are registry data (edited in the portal); the registry's own service writes them here.
  const by = { actor: 'test' }
  await ctx.services.portal.contacts.add(tpp.orgId, { type: 'business', name: 'Bea Business', email: 'bea@movies.example', phone: '+44 20 7946 0000' }, by)
  await ctx.services.portal.contacts.add(tpp.orgId, { type: 'technical', name: 'Tom Tech', email: 'tom@movies.example' }, by)
  await ctx.services.portal.contacts.add(tpp.orgId, { type: 'security-incident', name: 'Sam Sec', email: 'soc@movies.example' }, by)

  const sw = (await tpp.call('POST', `/organisations/${tpp.orgId}/software-statements`, {
    json: {
      client_name: 'Prime Movies', client_description: 'A movie streaming service', redirect_uris: ['https://movies.example/cb'], roles: ['aisp', 'pisp'],
      environment: 'production', on_behalf_of: 'Acme Ltd', tos_uri: 'https://movies.example/tos.html',
    },
  })).json()
  const signing = (await tpp.call('POST', `/organisations/${tpp.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'signing', csr: makeCsr(ecKey()) } })).json()
  const transport = (await tpp.call('POST', `/organisations/${tpp.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey()) } })).json()
  const swId = toBase62(sw.software_id)
  const path = `/uk/v2.1/organisation/${tpp.orgId}/software-statement/${swId}/software-statement-assertion`

  let ssa = ''
  let ukSsa = ''
  await t.test('SSA at the Directory API path validates and carries every OBIE claim', async (t) => {
    const res = await tpp.call('GET', path, { scope: 'directory:software' })
    t.equal(res.status, 200, res.text)
    t.same(spec.problems(ssaPath, 'get', observed(res)), [])
    t.match(res.headers['ob-request-id'], /^[0-9a-f-]{36}$/)
    ssa = res.text
    const jwks = createRemoteJWKSet(new URL(`${ctx.publicUrl}/uk/openbanking.jwks`))
    const { payload, protectedHeader } = await jwtVerify(ssa, jwks, { issuer: 'OpenBanking Ltd', typ: 'JWT' })
    t.ok(['ES256', 'PS256'].includes(protectedHeader.alg), 'alg ES256 or PS256')
    t.type(protectedHeader.kid, 'string')
    const ks = `${ctx.publicUrl}/uk/${tpp.orgId}`
    t.match(payload, {
      software_id: swId, software_client_id: swId, software_client_name: 'Prime Movies', software_client_description: 'A movie streaming service',
      software_version: '1', software_environment: 'production', software_mode: 'Live', software_redirect_uris: ['https://movies.example/cb'],
      software_roles: ['AISP', 'PISP'], software_tos_uri: 'https://movies.example/tos.html', software_on_behalf_of_org: 'Acme Ltd',
      software_jwks_endpoint: `${ks}/${swId}.jwks`, software_jwks_revoked_endpoint: `${ks}/revoked/${swId}.jwks`,
      org_status: 'Active', org_id: tpp.orgId, org_name: 'Movies Ltd',
      org_jwks_endpoint: `${ks}/${tpp.orgId}.jwks`, org_jwks_revoked_endpoint: `${ks}/revoked/${tpp.orgId}.jwks`,
    })
    t.same(payload.organisation_competent_authority_claims, {
      authority_id: 'FCAGBR', registration_id: '111111', status: 'Active',
      authorisations: [{ member_state: 'GB', roles: ['AISP', 'PISP'] }, { member_state: 'IE', roles: ['AISP'] }],
    })
    // org_contacts: "JSON array of objects containing a triplet of name, email, and phone number", "Each item
    // Max256Text", types as the document's example SSA spells them; OBIE has no security-incident type.
    t.same(payload.org_contacts, [
      { name: 'Bea Business', email: 'bea@movies.example', phone: '+44 20 7946 0000', type: 'business' },
      { name: 'Tom Tech', email: 'tom@movies.example', type: 'technical' },
    ])
    for (const c of payload.org_contacts as Array<Record<string, unknown>>) {
      for (const v of Object.values(c)) t.ok(typeof v === 'string' && v.length <= 256, 'Max256Text')
      t.ok(['business', 'technical'].includes(c.type as string))
    }
    t.match(payload.software_client_id, /^[0-9A-Za-z]{22}$/, 'Base62 GUID (22 chars)')
    t.ok(String(payload.software_client_name).length <= 40, 'Max40Text')
    t.type(payload.iat, 'number')
    t.type(payload.jti, 'string')
    t.notOk('software_client_uri' in payload, 'absent values are omitted')
    t.notOk(Object.values(payload).includes(null))
    // The SDK verifies the OBIE claim set and bounds a registration request by it.
    const sdkOptions = { profile: 'uk' as const, issuer: 'OpenBanking Ltd', jwksUri: `${ctx.publicUrl}/uk/openbanking.jwks`, participantsUri: `${ctx.publicUrl}/participants` }
    const claims = await verifySoftwareStatement(ssa, sdkOptions)
    t.equal(claims.software_id, swId)
    t.doesNotThrow(() => checkRegistrationAgainstSsa({ redirect_uris: ['https://movies.example/cb'], jwks_uri: payload.software_jwks_endpoint, scope: 'openid accounts' }, claims))
    t.throws(() => checkRegistrationAgainstSsa({ redirect_uris: ['https://evil.example/cb'] }, claims), { code: 'ERR_REDIRECT_URI' })
    t.throws(() => checkRegistrationAgainstSsa({ jwks_uri: `${ks}/${tpp.orgId}.jwks` }, claims), { code: 'ERR_JWKS_URI' })
    await t.rejects(verifySoftwareStatement(ssa, { ...sdkOptions, profile: 'cdr' }), { code: 'ERR_SSA_CLAIM_MISSING' }, 'not a CDR claim set')
    ukSsa = ssa
    // The UUID names the same software statement.
    const byUuid = await tpp.call('GET', `/uk/v2.1/organisation/${tpp.orgId}/software-statement/${sw.software_id}/software-statement-assertion`, { scope: 'directory:software' })
    t.equal(byUuid.status, 200)
    t.equal(decodeJwt(byUuid.text).software_id, swId)
  })

  await t.test('the Directory API scopes: TPPReadAccess for a TPP, ASPSPReadAccess for an ASPSP, each by role', async (t) => {
    const granted = await tpp.tokenResponse({ scope: 'TPPReadAccess' })
    t.equal(granted.status, 200, granted.text)
    t.equal(granted.json().scope, 'TPPReadAccess')
    const res = await tpp.call('GET', path, { scope: 'TPPReadAccess' })
    t.equal(res.status, 200, res.text)
    t.same(spec.problems(ssaPath, 'get', observed(res)), [])
    t.equal(decodeJwt(res.text).software_id, swId)
    const notAspsp = await tpp.tokenResponse({ scope: 'ASPSPReadAccess' })
    t.equal(notAspsp.status, 400)
    t.match(notAspsp.json(), { error: 'invalid_scope', error_description: /ASPSPReadAccess/ })
    const defaults = await tpp.tokenResponse()
    t.notMatch(defaults.json().scope, /ReadAccess/, 'no UK scope unless asked for')

    const bank = await enrolParticipant(ctx, { roles: ['aspsp'], legalName: 'Bank plc' })
    t.teardown(() => bank.close())
    t.equal((await bank.tokenResponse({ scope: 'ASPSPReadAccess' })).json().scope, 'ASPSPReadAccess')
    t.match((await bank.tokenResponse({ scope: 'TPPReadAccess' })).json(), { error: 'invalid_scope' })

    // A token without any of the endpoint's scopes is refused in the profile's format, with the scopes named.
    const without = await tpp.call('GET', path, { scope: 'directory:read directory:events' })
    t.equal(without.status, 401)
    t.same(spec.problems(ssaPath, 'get', observed(without)), [])
    t.match(JSON.parse(without.text), { error: String, error_description: /TPPReadAccess or ASPSPReadAccess/ })
    t.match(without.headers['www-authenticate'], /insufficient_scope.*TPPReadAccess ASPSPReadAccess/)
  })

  await t.test('every keystore URL in the SSA answers; revocation moves a key to revoked/', async (t) => {
    const payload = decodeJwt(ssa) as Record<string, string>
    const kids = async (url: string) => {
      const r = await get(url)
      t.equal(r.status, 200, url)
      return (JSON.parse(r.text).keys as Array<{ kid: string }>).map((k) => k.kid).sort()
    }
    const both = [signing['x5t#S256'], transport['x5t#S256']].sort()
    t.same(await kids(payload.software_jwks_endpoint!), both, 'active signing and network certs of the software')
    t.same(await kids(payload.software_jwks_revoked_endpoint!), [])
    const orgKids = await kids(payload.org_jwks_endpoint!)
    t.ok(both.every((k) => orgKids.includes(k)), 'the organisation keystore holds its software keys')
    t.same(await kids(payload.org_jwks_revoked_endpoint!), [])
    const key = JSON.parse((await get(payload.software_jwks_endpoint!)).text).keys.find((k: any) => k.kid === signing['x5t#S256'])
    t.match(key, { use: 'sig', x5c: [String, String] })

    const revoked = await tpp.call('POST', `/organisations/${tpp.orgId}/certificates/${signing.serial}/revoke`, { json: { reason: 'keyCompromise' } })
    t.equal(revoked.status, 200, revoked.text)
    t.same(await kids(payload.software_jwks_endpoint!), [transport['x5t#S256']])
    t.same(await kids(payload.software_jwks_revoked_endpoint!), [signing['x5t#S256']])
    t.same(await kids(payload.org_jwks_revoked_endpoint!), [signing['x5t#S256']])

    t.equal((await get(`${ctx.publicUrl}/uk/${tpp.orgId}/${toBase62('00000000-0000-4000-8000-000000000000')}.jwks`)).status, 404)
    const bad = await get(`${ctx.publicUrl}/uk/${tpp.orgId}/nope.json`)
    t.equal(bad.status, 400)
    t.match(JSON.parse(bad.text), { error: 'validation', error_description: /jwks/ })
  })

  await t.test('refusals are the codes the document declares', async (t) => {
    const noToken = await tpp.http.call('GET', path)
    t.equal(noToken.status, 401)
    t.same(spec.problems(ssaPath, 'get', observed(noToken)), [])
    const readOnly = await tpp.call('GET', path, { scope: 'directory:read' })
    t.equal(readOnly.status, 401, 'the document knows no 403')
    t.same(spec.problems(ssaPath, 'get', observed(readOnly)), [])
    const bad = await tpp.call('GET', `/uk/v2.1/organisation/${tpp.orgId}/software-statement/${'x'.repeat(40)}/software-statement-assertion`, { scope: 'directory:software' })
    t.equal(bad.status, 400)
    t.same(spec.problems(ssaPath, 'get', observed(bad)), [])
    const unknown = await tpp.call('GET', `/uk/v2.1/organisation/${tpp.orgId}/software-statement/${toBase62('00000000-0000-4000-8000-000000000000')}/software-statement-assertion`, { scope: 'directory:software' })
    t.equal(unknown.status, 404)
    t.same(spec.problems(ssaPath, 'get', observed(unknown)), [])

    // A deactivated software statement fails the SSA pre-conditions (400) on the next request.
    const token = await tpp.token('directory:software')
    t.equal((await operator.call('PATCH', `/admin/organisations/${tpp.orgId}/software-statements/${sw.software_id}`, { ...admin, json: { status: 'inactive' } })).status, 200)
    const inactive = await tpp.call('GET', path, { token })
    t.equal(inactive.status, 400)
    t.same(spec.problems(ssaPath, 'get', observed(inactive)), [])
    t.match(JSON.parse(inactive.text), { error: 'ssa-precondition', error_description: /inactive/ })
    t.equal((await operator.call('PATCH', `/admin/organisations/${tpp.orgId}/software-statements/${sw.software_id}`, { ...admin, json: { status: 'active' } })).status, 200)
    t.equal((await tpp.call('GET', path, { token })).status, 200)

    // Suspending the organisation stops its SSAs even with a token issued before.
    t.equal((await operator.call('PATCH', `/admin/organisations/${tpp.orgId}`, { ...admin, json: { status: 'suspended' } })).status, 200)
    await t.rejects(verifySoftwareStatement(ukSsa, { profile: 'uk', issuer: 'OpenBanking Ltd', jwksUri: `${ctx.publicUrl}/uk/openbanking.jwks`, participantsUri: `${ctx.publicUrl}/participants` }),
      { code: 'ERR_PARTICIPANT_INACTIVE' }, 'the SDK sees the suspension in the participant list')
    const suspended = await tpp.call('GET', path, { token })
    t.equal(suspended.status, 401)
    t.same(spec.problems(ssaPath, 'get', observed(suspended)), [])
    t.equal((await operator.call('PATCH', `/admin/organisations/${tpp.orgId}`, { ...admin, json: { status: 'revoked' } })).status, 200)
    t.same(JSON.parse((await get(`${ctx.publicUrl}/uk/${tpp.orgId}/${swId}.jwks`)).text).keys, [], 'revoking the organisation empties its keystores')
  })
})
