import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { checkRegistrationAgainstSsa, verifySoftwareStatement } from '@ecosystem-directory/sdk'
import { createRemoteJWKSet, decodeJwt, jwtVerify, SignJWT } from 'jose'
import { request } from 'undici'
import { buildTestApp } from '../helpers/app.js'
import { loadSpec, observed, type Observed } from '../helpers/openapi.js'
import { ecKey, enrolParticipant, makeCsr, operatorOf, type Participant } from '../helpers/participant.js'

const p = {
  openid: '/idp/.well-known/openid-configuration',
  jwks: '/cdr-register/v1/jwks',
  brands: '/cdr-register/v1/{industry}/data-holders/brands',
  summary: '/cdr-register/v1/{industry}/data-holders/brands/summary',
  ssa: '/cdr-register/v1/{industry}/data-recipients/brands/{dataRecipientBrandId}/software-products/{softwareProductId}/ssa',
  holderStatus: '/cdr-register/v1/{industry}/data-holders/status',
  productStatus: '/cdr-register/v1/{industry}/data-recipients/brands/software-products/status',
  recipientStatus: '/cdr-register/v1/{industry}/data-recipients/status',
  recipients: '/cdr-register/v1/{industry}/data-recipients',
}

t.test('CDR Register profile: every endpoint as cdr-register-openapi.yaml 1.36 says', async (t) => {
  const spec = await loadSpec('cdr-register-openapi.yaml')
  const check = (t: Test, path: string, res: Observed, status: number) => {
    t.equal(res.status, status, `${path} → ${status}: ${res.body?.slice(0, 300)}`)
    t.same(spec.problems(path, 'get', res), [], `${path} ${status} validates`)
  }
  const ctx = await buildTestApp(t, {
    ECOSYSTEM_PROFILES: 'cdr', SIGNING_ALG: 'PS256',
    ROLES: JSON.stringify({ 'data-recipient': ['openid', 'profile', 'bank:accounts.basic:read', 'cdr:registration'], 'data-holder': ['openid'] }),
  })
  const get = async (url: string, headers: Record<string, string> = {}): Promise<Observed> => {
    const r = await request(url, { headers })
    return { status: r.statusCode, headers: r.headers as Record<string, unknown>, body: await r.body.text() }
  }
  const json = (r: Observed) => JSON.parse(r.body ?? '')
  const pub = (path: string, xv?: string, extra: Record<string, string> = {}) => get(`${ctx.publicUrl}/cdr-register/v1${path}`, { ...(xv ? { 'x-v': xv } : {}), ...extra })
  const operator = operatorOf(ctx)
  t.teardown(() => operator.close())
  const admin = { scope: 'directory:admin' }

  t.same(json(await get(`${ctx.publicUrl}/.well-known/openid-configuration`)).ecosystem_profiles, {
    cdr: { public: `${ctx.publicUrl}/cdr-register/v1`, protected: `${ctx.mtlsUrl}/cdr-register/v1` },
  })

  // ---- onboarding through the admin API ----
  const adr = await enrolParticipant(ctx, { roles: ['data-recipient'], legalName: 'Budget Apps Pty Ltd' })
  t.teardown(() => adr.close())
  const badLe = await operator.call('PUT', `/admin/organisations/${adr.orgId}/legal-entity`, { ...admin, json: { logo_uri: 'https://budget.example/le.png', abn: '123' } })
  t.equal(badLe.status, 400, 'an ABN has 11 digits')
  const le = await operator.call('PUT', `/admin/organisations/${adr.orgId}/legal-entity`, {
    ...admin, json: { logo_uri: 'https://budget.example/le.png', abn: '11223491505', accreditation_number: 'ADRBNK000001', accreditation_level: 'UNRESTRICTED', organisation_type: 'COMPANY' },
  })
  t.equal(le.status, 200, le.text)
  const adrBrand = await operator.call('POST', `/admin/organisations/${adr.orgId}/brands`, {
    ...admin, json: { kind: 'data-recipient', name: 'Budget Buddy', logo_uri: 'https://budget.example/brand.png', industries: ['banking'] },
  })
  t.equal(adrBrand.status, 201, adrBrand.text)
  const brandId = adrBrand.json().id
  const sw = (await adr.call('POST', `/organisations/${adr.orgId}/software-statements`, {
    json: {
      client_name: 'Budget Buddy App', client_description: 'Budgeting from your bank data', client_uri: 'https://budget.example', logo_uri: 'https://budget.example/app.png',
      redirect_uris: ['https://budget.example/cb'], roles: ['data-recipient'], tos_uri: 'https://budget.example/tos',
    },
  })).json()
  const productId: string = sw.software_id
  const notRecipientBrand = await operator.call('PUT', `/admin/organisations/${adr.orgId}/software-statements/${productId}/software-product`, { ...admin, json: { brand_id: randomUUID(), recipient_base_uri: 'https://budget.example' } })
  t.equal(notRecipientBrand.status, 400, 'the brand must be one of the organisation\'s')
  const linked = await operator.call('PUT', `/admin/organisations/${adr.orgId}/software-statements/${productId}/software-product`, {
    ...admin, json: { brand_id: brandId, recipient_base_uri: 'https://budget.example', sector_identifier_uri: 'https://budget.example/sector.json' },
  })
  t.equal(linked.status, 200, linked.text)
  const signingKey = ecKey()
  const signing = (await adr.call('POST', `/organisations/${adr.orgId}/software-statements/${productId}/certificates`, { json: { type: 'signing', csr: makeCsr(signingKey) } })).json()
  const audit = (await operator.call('GET', `/admin/audit?target=brand:${brandId}`, admin)).json()
  t.ok(audit.events.some((e: any) => e.action === 'brand.create'), 'brand changes are audited')

  // A data holder with three banking brands (for paging) and an energy one.
  const dh = await enrolParticipant(ctx, { roles: ['data-holder'], legalName: 'Bank of Examples Limited' })
  t.teardown(() => dh.close())
  t.equal((await operator.call('PUT', `/admin/organisations/${dh.orgId}/legal-entity`, { ...admin, json: { logo_uri: 'https://bank.example/logo.png', acn: '004044937', anzsic_division: 'Financial and Insurance Services' } })).status, 200)
  const noEndpoints = await operator.call('POST', `/admin/organisations/${dh.orgId}/brands`, { ...admin, json: { kind: 'data-holder', name: 'X', logo_uri: 'https://bank.example/x.png', industries: ['banking'] } })
  t.equal(noEndpoints.status, 400, 'a data holder brand needs its endpoints')
  const holderBrand = (name: string, industries: string[]) => operator.call('POST', `/admin/organisations/${dh.orgId}/brands`, {
    ...admin,
    json: {
      kind: 'data-holder', name, logo_uri: 'https://bank.example/logo.png', industries, jwks_endpoint: 'https://bank.example/jwks',
      endpoint_detail: { version: 'v1', public_base_uri: 'https://api.bank.example', resource_base_uri: 'https://mtls.bank.example', infosec_base_uri: 'https://id.bank.example', website_uri: 'https://bank.example' },
    },
  })
  const holderBrands: string[] = []
  for (const [name, ind] of [['Example Bank', ['banking']], ['Example Bank Business', ['banking']], ['Example Home Loans', ['banking']], ['Example Energy', ['energy']]] as const) {
    const r = await holderBrand(name, [...ind])
    t.equal(r.status, 201, r.text)
    holderBrands.push(r.json().id)
  }

  await t.test('IdP discovery and JWKS', async (t) => {
    const conf = await get(`${ctx.publicUrl}/idp/.well-known/openid-configuration`)
    t.equal(conf.status, 200)
    t.same(spec.problems(p.openid, 'get', conf), [])
    t.match(json(conf), { token_endpoint: `${ctx.mtlsUrl}/idp/connect/token`, scopes_supported: ['cdr-register:read'], tls_client_certificate_bound_access_tokens: true })
    const jwks = await pub('/jwks')
    t.same(spec.problems(p.jwks, 'get', jwks), [])
    t.match(json(jwks).keys[0], { kty: 'RSA', alg: 'PS256', key_ops: ['verify'] })
    t.equal((await get(json(conf).jwks_uri)).status, 200, 'the token-signing keys are where discovery says')
  })

  await t.test('public lists: envelope, x-v, ETag', async (t) => {
    const recipients = await pub('/all/data-recipients', '4')
    check(t, p.recipients, recipients, 200)
    t.equal(recipients.headers['x-v'], '4')
    const r = json(recipients)
    t.match(r, { links: { self: `${ctx.publicUrl}/cdr-register/v1/all/data-recipients` }, meta: {} })
    t.match(r.data.find((x: any) => x.legalEntityId === adr.orgId), {
      legalEntityName: 'Budget Apps Pty Ltd', accreditationNumber: 'ADRBNK000001', accreditationLevel: 'UNRESTRICTED', logoUri: 'https://budget.example/le.png', status: 'ACTIVE',
      dataRecipientBrands: [{ dataRecipientBrandId: brandId, brandName: 'Budget Buddy', status: 'ACTIVE', softwareProducts: [{ softwareProductId: productId, softwareProductName: 'Budget Buddy App', softwareProductDescription: 'Budgeting from your bank data', status: 'ACTIVE' }] }],
    })
    t.notOk(r.data.some((x: any) => x.legalEntityId === dh.orgId), 'data holders are not recipients')
    const again = await pub('/all/data-recipients', '4', { 'if-none-match': String(recipients.headers.etag) })
    check(t, p.recipients, again, 304)

    check(t, p.recipientStatus, await pub('/all/data-recipients/status', '3'), 200)
    const products = await pub('/all/data-recipients/brands/software-products/status', '3')
    check(t, p.productStatus, products, 200)
    t.same(json(products).data, [{ softwareProductId: productId, status: 'ACTIVE' }])
    const holders = await pub('/banking/data-holders/status', '2')
    check(t, p.holderStatus, holders, 200)
    t.same(json(holders).data, [{ legalEntityId: dh.orgId, status: 'ACTIVE' }])
    const summary = await pub('/banking/data-holders/brands/summary', '2')
    check(t, p.summary, summary, 200)
    t.same(json(summary).data.map((b: any) => b.brandName), ['Example Bank', 'Example Bank Business', 'Example Home Loans'], 'banking brands only')
    t.match(json(summary).data[0], { publicBaseUri: 'https://api.bank.example', acn: '004044937', industries: ['banking'] })
    t.equal(json(await pub('/all/data-holders/brands/summary', '2')).data.length, 4)
    check(t, p.summary, await pub('/banking/data-holders/brands/summary', '2', { 'if-none-match': String(summary.headers.etag) }), 304)
    check(t, p.recipients, await pub('/banking/data-recipients', '4'), 400)
  })

  await t.test('x-v and x-min-v negotiation', async (t) => {
    const missing = await pub('/all/data-recipients')
    check(t, p.recipients, missing, 400)
    t.match(json(missing).errors, [{ code: 'urn:au-cds:error:cds-all:Header/Missing', title: 'Missing Required Header', detail: /x-v/ }])
    const bad = await pub('/all/data-recipients', 'two')
    check(t, p.recipients, bad, 400)
    t.equal(json(bad).errors[0].code, 'urn:au-cds:error:cds-all:Header/InvalidVersion')
    check(t, p.recipients, await pub('/all/data-recipients', '4', { 'x-min-v': '0' }), 400)
    const unsupported = await pub('/all/data-recipients', '3')
    check(t, p.recipients, unsupported, 406)
    t.equal(json(unsupported).errors[0].code, 'urn:au-cds:error:cds-all:Header/UnsupportedVersion')
    const ranged = await pub('/all/data-recipients', '9', { 'x-min-v': '2' })
    check(t, p.recipients, ranged, 200)
    t.equal(ranged.headers['x-v'], '4', 'the highest supported version in [x-min-v, x-v]')
    check(t, p.recipients, await pub('/all/data-recipients', '9', { 'x-min-v': '5' }), 406)
    check(t, p.recipients, await pub('/all/data-recipients', '3', { 'x-min-v': '4' }), 406)
    t.equal((await pub('/all/data-recipients', '3', { 'x-min-v': '4' })).status, 406, 'x-min-v at or above x-v counts as absent')
    check(t, p.summary, await pub('/banking/data-holders/brands/summary', '3'), 406)
    check(t, p.holderStatus, await pub('/banking/data-holders/status', '1', { 'x-min-v': '1' }), 406)
  })

  // ---- the Register's token ----
  const tokenEndpoint = `${ctx.mtlsUrl}/idp/connect/token`
  const assertion = (claims: Record<string, unknown> = {}) => {
    const now = Math.floor(ctx.clock.now().getTime() / 1000)
    return new SignJWT({ iss: productId, sub: productId, aud: tokenEndpoint, jti: randomUUID(), iat: now, exp: now + 60, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: signing['x5t#S256'] }).sign(signingKey)
  }
  const tokenRequest = async (who: Participant, form: Record<string, string>) => who.http.call('POST', '/idp/connect/token', {
    form: { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', scope: 'cdr-register:read', ...form },
  })
  let token = ''

  await t.test('token rules: the software product, scope cdr-register:read, the Register audience', async (t) => {
    const ok = await tokenRequest(adr, { client_assertion: await assertion() })
    t.equal(ok.status, 200, ok.text)
    token = ok.json().access_token
    t.match(decodeJwt(token), { client_id: productId, sub: productId, aud: 'cdr-register', scope: 'cdr-register:read', cnf: { 'x5t#S256': String } })
    t.equal(ok.json().expires_in, 300)
    const wrongScope = await tokenRequest(adr, { client_assertion: await assertion(), scope: 'cdr-register:write' })
    t.match({ status: wrongScope.status, error: wrongScope.json().error }, { status: 400, error: 'invalid_scope' })
    const orgClient = await tokenRequest(adr, { client_assertion: await adr.assertion({ aud: tokenEndpoint }) })
    t.match({ status: orgClient.status, error: orgClient.json().error }, { status: 401, error: 'invalid_client' }, 'client_id must be a software product id')
    const replay = await assertion()
    t.equal((await tokenRequest(adr, { client_assertion: replay })).status, 200)
    t.equal((await tokenRequest(adr, { client_assertion: replay })).json().error, 'invalid_client', 'a jti is single-use')
    const otherAud = await tokenRequest(adr, { client_assertion: await assertion({ aud: 'https://elsewhere.example/token' }) })
    t.equal(otherAud.json().error, 'invalid_client')
    const foreignCert = await tokenRequest(dh, { client_assertion: await assertion() })
    t.equal(foreignCert.json().error, 'invalid_client', 'the mTLS certificate must be the product\'s organisation\'s')
  })

  const brands = (query = '', opts: { token?: string, xv?: string } = {}) => adr.http.call('GET', `/cdr-register/v1/banking/data-holders/brands${query}`, {
    token: opts.token ?? token, headers: { 'x-v': opts.xv ?? '3' },
  }).then((r) => observed(r))

  await t.test('data holder brands: mTLS + Register token, pagination with bounds', async (t) => {
    const all = await brands()
    check(t, p.brands, all, 200)
    t.equal(all.headers['x-v'], '3')
    const body = json(all)
    t.match(body.meta, { totalRecords: 3, totalPages: 1 })
    t.match(body.data[0], {
      dataHolderBrandId: holderBrands[0], brandName: 'Example Bank', industries: ['banking'], status: 'ACTIVE',
      legalEntity: { legalEntityId: dh.orgId, legalEntityName: 'Bank of Examples Limited', acn: '004044937', registrationNumber: String, registeredCountry: 'GB', status: 'ACTIVE' },
      endpointDetail: { version: 'v1', publicBaseUri: 'https://api.bank.example', resourceBaseUri: 'https://mtls.bank.example', infosecBaseUri: 'https://id.bank.example', websiteUri: 'https://bank.example' },
      authDetails: [{ registerUType: 'SIGNED-JWT', jwksEndpoint: 'https://bank.example/jwks' }],
    })
    const first = await brands('?page-size=2')
    check(t, p.brands, first, 200)
    t.match(json(first), { meta: { totalRecords: 3, totalPages: 2 }, links: { next: /page=2/, last: /page=2/, first: /page=1/ } })
    t.notOk('prev' in json(first).links)
    const second = await brands('?page=2&page-size=2')
    check(t, p.brands, second, 200)
    t.equal(json(second).data.length, 1)
    t.match(json(second).links, { prev: /page=1/ })
    t.notOk('next' in json(second).links)
    for (const [q, code] of [['?page=3&page-size=2', 'Field/InvalidPage'], ['?page=0', 'Field/Invalid'], ['?page=abc', 'Field/Invalid'], ['?page-size=1001', 'Field/InvalidPageSize'], ['?page-size=-1', 'Field/Invalid'], ['?updated-since=yesterday', 'Field/InvalidDateTime']] as const) {
      const r = await brands(q)
      check(t, p.brands, r, 400)
      t.equal(json(r).errors[0].code, `urn:au-cds:error:cds-all:${code}`, q)
    }
    const future = await brands(`?updated-since=${encodeURIComponent(new Date(Date.now() + 86400_000).toISOString())}`)
    check(t, p.brands, future, 200)
    t.match(json(future), { data: [], meta: { totalRecords: 0, totalPages: 0 } })
    check(t, p.brands, await brands('', { xv: '2' }), 406)
    const noToken = observed(await adr.http.call('GET', '/cdr-register/v1/banking/data-holders/brands', { headers: { 'x-v': '3' } }))
    check(t, p.brands, noToken, 401)
    t.match(noToken.headers['www-authenticate'], /^Bearer/)
    const nativeToken = await adr.token('directory:read')
    check(t, p.brands, await brands('', { token: nativeToken }), 401)
    t.equal((await brands('', { token: nativeToken })).status, 401, 'a directory token is not a Register token (audience)')
    const stolen = observed(await dh.http.call('GET', '/cdr-register/v1/banking/data-holders/brands', { token, headers: { 'x-v': '3' } }))
    check(t, p.brands, stolen, 401)
  })

  const ssaPath = (b = brandId, prod = productId) => `/cdr-register/v1/all/data-recipients/brands/${b}/software-products/${prod}/ssa`
  const ssa = (opts: { b?: string, prod?: string, token?: string, xv?: string } = {}) =>
    adr.http.call('GET', ssaPath(opts.b, opts.prod), { token: opts.token ?? token, headers: { 'x-v': opts.xv ?? '4' } }).then((r) => observed(r))

  await t.test('SSA: CDR claims, lifetime, signature against the Register JWKS; keystore followed', async (t) => {
    const res = await ssa()
    check(t, p.ssa, res, 200)
    t.equal(res.headers['x-v'], '4')
    const jwks = createRemoteJWKSet(new URL(`${ctx.publicUrl}/cdr-register/v1/jwks`))
    const { payload, protectedHeader } = await jwtVerify(res.body!, jwks, { issuer: 'cdr-register', typ: 'JWT' })
    t.equal(protectedHeader.alg, 'PS256')
    t.match(payload, {
      legal_entity_id: adr.orgId, legal_entity_name: 'Budget Apps Pty Ltd', org_id: brandId, org_name: 'Budget Buddy',
      client_name: 'Budget Buddy App', client_description: 'Budgeting from your bank data', client_uri: 'https://budget.example',
      redirect_uris: ['https://budget.example/cb'], logo_uri: 'https://budget.example/app.png', tos_uri: 'https://budget.example/tos',
      recipient_base_uri: 'https://budget.example', sector_identifier_uri: 'https://budget.example/sector.json',
      software_id: productId, software_roles: 'data-recipient-software-product', scope: 'openid profile bank:accounts.basic:read cdr:registration',
      jti: String,
    })
    t.equal(payload.exp! - payload.iat!, 600, 'ten minutes')
    t.notOk('org_status' in payload || 'aud' in payload || 'policy_uri' in payload)
    const keys = JSON.parse((await get(String(payload.jwks_uri))).body!).keys
    t.same(keys.map((k: any) => k.kid), [signing['x5t#S256']], 'jwks_uri holds the product\'s signing key')

    // The SDK verifies the CDR claim set; the registration request may narrow the scope, never widen it.
    const claims = await verifySoftwareStatement(res.body!, { profile: 'cdr', issuer: 'cdr-register', jwksUri: `${ctx.publicUrl}/cdr-register/v1/jwks`, participantsUri: `${ctx.publicUrl}/participants` })
    t.equal(claims.software_id, productId)
    t.doesNotThrow(() => checkRegistrationAgainstSsa({ redirect_uris: ['https://budget.example/cb'], scope: 'openid bank:accounts.basic:read', jwks_uri: String(payload.jwks_uri) }, claims))
    t.throws(() => checkRegistrationAgainstSsa({ scope: 'openid bank:transactions:read' }, claims), { code: 'ERR_SCOPE' })

    check(t, p.ssa, await ssa({ b: holderBrands[0] }), 403)
    t.equal(json(await ssa({ b: holderBrands[0] })).errors[0].title, 'Invalid Brand')
    check(t, p.ssa, await ssa({ prod: randomUUID() }), 404)
    check(t, p.ssa, await ssa({ prod: 'not-a-product' }), 404)
    check(t, p.ssa, await ssa({ xv: '3' }), 406)
    check(t, p.ssa, observed(await adr.http.call('GET', ssaPath(), { token })), 400)
    check(t, p.ssa, observed(await adr.http.call('GET', ssaPath(), { headers: { 'x-v': '4' } })), 401)

    t.equal((await operator.call('PATCH', `/admin/organisations/${adr.orgId}/software-statements/${productId}`, { ...admin, json: { client_uri: null } })).status, 200)
    const invalid = await ssa()
    check(t, p.ssa, invalid, 422)
    t.match(json(invalid).errors[0].detail, /client_uri/)
    t.equal((await operator.call('PATCH', `/admin/organisations/${adr.orgId}/software-statements/${productId}`, { ...admin, json: { client_uri: 'https://budget.example' } })).status, 200)
  })

  await t.test('suspension and revocation show on the next request', async (t) => {
    t.equal((await operator.call('PATCH', `/admin/organisations/${adr.orgId}/brands/${brandId}`, { ...admin, json: { status: 'inactive' } })).status, 200)
    t.same(json(await pub('/all/data-recipients/brands/software-products/status', '3')).data, [{ softwareProductId: productId, status: 'INACTIVE' }])
    const inactiveBrand = await ssa()
    check(t, p.ssa, inactiveBrand, 403)
    t.equal(json(inactiveBrand).errors[0].code, 'urn:au-cds:error:cds-all:Authorisation/AdrStatusNotActive')
    t.equal((await operator.call('PATCH', `/admin/organisations/${adr.orgId}/brands/${brandId}`, { ...admin, json: { status: 'active' } })).status, 200)
    check(t, p.ssa, await ssa(), 200)

    t.equal((await operator.call('PATCH', `/admin/organisations/${adr.orgId}`, { ...admin, json: { status: 'suspended' } })).status, 200)
    const statuses = await pub('/all/data-recipients/status', '3')
    check(t, p.recipientStatus, statuses, 200)
    t.same(json(statuses).data, [{ legalEntityId: adr.orgId, status: 'SUSPENDED' }])
    t.same(json(await pub('/all/data-recipients/brands/software-products/status', '3')).data, [{ softwareProductId: productId, status: 'INACTIVE' }])
    const recipients = await pub('/all/data-recipients', '4')
    check(t, p.recipients, recipients, 200)
    t.match(json(recipients).data[0], { status: 'SUSPENDED', dataRecipientBrands: [{ status: 'INACTIVE' }] })
    const suspended = await ssa()
    check(t, p.ssa, suspended, 403)
    t.equal(json(suspended).errors[0].code, 'urn:au-cds:error:cds-all:Authorisation/AdrStatusNotActive')

    t.equal((await operator.call('PATCH', `/admin/organisations/${adr.orgId}`, { ...admin, json: { status: 'revoked' } })).status, 200)
    t.same(json(await pub('/all/data-recipients/status', '3')).data, [{ legalEntityId: adr.orgId, status: 'REVOKED' }])
    t.same(json(await pub('/all/data-recipients/brands/software-products/status', '3')).data, [{ softwareProductId: productId, status: 'REMOVED' }])

    t.equal((await operator.call('PATCH', `/admin/organisations/${dh.orgId}`, { ...admin, json: { status: 'revoked' } })).status, 200)
    const holders = await pub('/banking/data-holders/status', '2')
    check(t, p.holderStatus, holders, 200)
    t.same(json(holders).data, [{ legalEntityId: dh.orgId, status: 'REMOVED' }])
    t.same(json(await pub('/banking/data-holders/brands/summary', '2')).data, [], 'removed brands leave the public summary')
  })
})

t.test('the CDR profile is off unless configured', async (t) => {
  const ctx = await buildTestApp(t)
  t.equal((await ctx.app.inject({ url: '/cdr-register/v1/all/data-recipients', headers: { 'x-v': '4' } })).statusCode, 404)
  t.equal((await ctx.app.inject({ url: '/idp/.well-known/openid-configuration' })).statusCode, 404)
})
