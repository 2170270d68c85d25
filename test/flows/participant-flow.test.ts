import t from 'tap'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { request } from 'undici'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr } from '../helpers/participant.js'

t.test('enrol → token → create software → CSR → SSA that verifies against /jwks', async (t) => {
  const ctx = await buildTestApp(t)
  const p = await enrolParticipant(ctx, { roles: ['data-recipient'] })
  t.teardown(() => p.close())

  const tokenRes = await p.tokenResponse({ scope: 'directory:read directory:software' })
  t.equal(tokenRes.status, 200, tokenRes.text)
  t.equal(tokenRes.headers['cache-control'], 'no-store')
  const token = tokenRes.json()
  t.match(token, { token_type: 'Bearer', expires_in: 300, scope: 'directory:read directory:software' })
  t.equal(decodeProtectedHeader(token.access_token).typ, 'at+jwt')

  const created = await p.http.call('POST', `/organisations/${p.orgId}/software-statements`, {
    token: token.access_token,
    json: { client_name: 'Budget App', redirect_uris: ['https://budget.example/cb'], roles: ['data-recipient'] },
  })
  t.equal(created.status, 201, created.text)
  const sw = created.json()
  t.match(sw, { client_name: 'Budget App', status: 'active', version: 1, mode: 'live' })

  const cert = await p.http.call('POST', `/organisations/${p.orgId}/software-statements/${sw.software_id}/certificates`, {
    token: token.access_token, json: { type: 'signing', csr: makeCsr(ecKey()) },
  })
  t.equal(cert.status, 201, cert.text)
  t.match(cert.json(), { type: 'signing', status: 'active', serial: /^[0-9a-f]+$/ })

  const ssaRes = await p.http.call('GET', `/organisations/${p.orgId}/software-statements/${sw.software_id}/ssa`, { token: token.access_token })
  t.equal(ssaRes.status, 200, ssaRes.text)
  t.match(ssaRes.headers['content-type'], /^application\/jwt/)
  const jwks = await (await request(`${ctx.publicUrl}/jwks`)).body.json() as { keys: [] }
  const { payload, protectedHeader } = await jwtVerify(ssaRes.text, createLocalJWKSet(jwks), { issuer: ctx.config.DIRECTORY_ISSUER })
  t.equal(protectedHeader.alg, 'PS256')
  t.equal(protectedHeader.typ, 'JWT')
  t.match(payload, {
    software_id: sw.software_id, software_version: 1, software_mode: 'live', software_roles: ['data-recipient'],
    org_id: p.orgId, org_status: 'active', client_name: 'Budget App', redirect_uris: ['https://budget.example/cb'],
    token_endpoint_auth_method: 'private_key_jwt', scope: 'openid accounts consents',
    jwks_uri: `${ctx.publicUrl}/organisations/${p.orgId}/software-statements/${sw.software_id}/jwks`,
  })
  t.notOk('client_uri' in payload, 'absent optional values are omitted, not null')
  t.equal(payload.exp! - payload.iat!, 600)

  // tls_client_auth software (RFC 8705 §2.1) carries that method into its SSA.
  const mtlsSw = (await p.http.call('POST', `/organisations/${p.orgId}/software-statements`, {
    token: token.access_token, json: { client_name: 'Mutual App', redirect_uris: ['https://m.example/cb'], roles: ['data-recipient'], token_endpoint_auth_method: 'tls_client_auth' },
  })).json()
  t.equal(mtlsSw.token_endpoint_auth_method, 'tls_client_auth')
  const mtlsSsa = await p.http.call('GET', `/organisations/${p.orgId}/software-statements/${mtlsSw.software_id}/ssa`, { token: token.access_token })
  t.equal((await jwtVerify(mtlsSsa.text, createLocalJWKSet(jwks))).payload.token_endpoint_auth_method, 'tls_client_auth')
  const bad = await p.http.call('POST', `/organisations/${p.orgId}/software-statements`, {
    token: token.access_token, json: { client_name: 'X', redirect_uris: ['https://m.example/cb'], roles: ['data-recipient'], token_endpoint_auth_method: 'client_secret_basic' },
  })
  t.equal(bad.status, 400, 'client secrets have no place in FAPI 2.0')

  const keystore = await (await request(sw.jwks_uri)).body.json() as { keys: Array<Record<string, unknown>> }
  t.equal(keystore.keys.length, 1)
  t.match(keystore.keys[0], { use: 'sig', kid: cert.json()['x5t#S256'], 'x5t#S256': cert.json()['x5t#S256'] })
})
