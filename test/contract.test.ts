import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { request } from 'undici'
import { z } from 'zod'
import {
  authorisationServerRecord, certificateListItem, DirectoryClient, directoryJwks, issuedCertificate, keystore, organisationRecord,
  participantList, softwareStatementAssertionClaims, softwareStatementRecord,
} from '@ecosystem-directory/sdk'
import { createOrganisation, DirectoryApi, fetchCaBundle, makeCsr, newKey, pkcs8, publicJwk } from '../scripts/demo/ecosystem.js'
import { buildTestApp, TestClock } from './helpers/app.js'

/**
 * One wire contract: what the directory sends — documents built outside the serializer (some by PostgreSQL), SSAs,
 * and the participant API's answers — decodes with the SDK's zod schemas, and re-encodes to the very same JSON, so a
 * field the SDK does not know, a missing one, a wrong type or a renamed value fails here.
 */

// The SDK's clients read the real clock: the directory's keeps pace with it.
const ctx = await buildTestApp(t, {}, { clock: new TestClock(true) })
const caPem = await fetchCaBundle(ctx.publicUrl)
const directory = { issuer: ctx.publicUrl, mtlsBaseUrl: ctx.mtlsUrl, caPem }
const operator = new DirectoryApi(directory, {
  clientId: ctx.operator.clientId, orgId: ctx.operator.orgId, signingKeyPem: ctx.operator.signingKeyPem,
  signingKid: ctx.operator.signingKid, transportKeyPem: ctx.operator.transportKeyPem, transportCertPem: ctx.operator.transportCertPem,
})
t.teardown(() => operator.close())

// A data holder with everything the documents can show: roles, software, an authorisation server with and without a
// logo and API resources, transport and signing certificates, one revoked.
const { organisation, code } = await createOrganisation(operator, { legalName: 'Contract Bank plc', roles: ['data-holder', 'data-recipient'] })
const signingKey = newKey()
const transportKey = newKey()
const jwk = await publicJwk(signingKey)
const enrolled = await DirectoryClient.enrol({ issuer: ctx.publicUrl, code, csrPem: makeCsr(transportKey), jwks: { keys: [{ ...jwk, alg: 'ES256', use: 'sig' }] } })
const api = new DirectoryApi(directory, {
  clientId: enrolled.client_id, orgId: enrolled.org_id, signingKeyPem: pkcs8(signingKey), signingKid: jwk.kid,
  transportKeyPem: pkcs8(transportKey), transportCertPem: enrolled.certificate + enrolled.chain.join(''),
})
t.teardown(() => api.close())
const orgPath = `/organisations/${organisation.id}`
const software = await api.call<{ software_id: string }>('POST', `${orgPath}/software-statements`, {
  json: { client_name: 'Contract App', client_uri: 'https://app.example/', redirect_uris: ['https://app.example/cb'], roles: ['data-recipient'] },
})
const softwarePath = `${orgPath}/software-statements/${software.software_id}`
await api.call('POST', `${orgPath}/authorisation-servers`, {
  json: { issuer: 'https://as.contract.example', discovery_url: 'https://as.contract.example/.well-known/openid-configuration', customer_friendly_name: 'Contract Bank', logo_uri: 'https://as.contract.example/logo.png', api_resources: [{ family: 'accounts', version: '4.0', base_url: 'https://api.contract.example/accounts', discovery_endpoints: ['https://api.contract.example/accounts/v4/accounts'] }] },
})
await api.call('POST', `${orgPath}/authorisation-servers`, {
  json: { issuer: 'https://as2.contract.example', discovery_url: 'https://as2.contract.example/.well-known/openid-configuration', customer_friendly_name: 'Contract Bank 2' },
})
const transport = await api.call<{ serial: string }>('POST', `${softwarePath}/certificates`, { json: { type: 'transport', csr: makeCsr(newKey()) } })
await api.call('POST', `${softwarePath}/certificates`, { json: { type: 'signing', csr: makeCsr(newKey()) } })
const spare = await api.call<{ serial: string }>('POST', `${softwarePath}/certificates`, { json: { type: 'signing', csr: makeCsr(newKey()) } })
const revoked = await api.call('POST', `${orgPath}/certificates/${spare.serial}/revoke`, { json: { reason: 'cessationOfOperation' } })

/** Decodes with the SDK's schema and re-encodes: the same JSON back means nothing was unknown, missing or mistyped. */
function conforms<S extends z.ZodType> (t: Test, schema: S, body: unknown, what: string): z.output<S> {
  const result = schema.safeParse(body)
  if (!result.success) {
    t.fail(`${what}: ${z.prettifyError(result.error)}`)
    return undefined as z.output<S>
  }
  t.same(JSON.parse(JSON.stringify(z.encode(schema, result.data))), body, `${what} matches the SDK's schema exactly`)
  return result.data
}

async function getJson (path: string): Promise<unknown> {
  const response = await request(`${ctx.publicUrl}${path}`, { headers: { accept: 'application/json' } })
  t.equal(response.statusCode, 200, `GET ${path}`)
  return response.body.json()
}

t.test('public documents: /participants (built by the database), /jwks, keystores', async (t) => {
  const participants = conforms(t, participantList, await getJson('/participants'), '/participants')
  const listed = participants?.find((p) => p.org_id === organisation.id)
  t.equal(listed?.authorisation_servers.length, 2, 'both authorisation servers listed')
  t.equal(listed?.software_statements[0]?.software_id, software.software_id)
  conforms(t, participantList, await getJson('/participants?role=data-holder&status=active'), '/participants filtered')
  conforms(t, directoryJwks, await getJson('/jwks'), '/jwks')
  const orgKeys = conforms(t, keystore, await getJson(`${orgPath}/jwks`), 'organisation keystore')
  t.ok((orgKeys?.keys.length ?? 0) >= 3, 'enrolment, transport and signing keys')
  conforms(t, keystore, await getJson(`${softwarePath}/jwks`), 'software keystore')
  const inactive = conforms(t, keystore, await getJson(`${softwarePath}/jwks/inactive`), 'inactive keystore')
  t.ok(inactive?.keys.some((k) => k.revoked_at !== undefined), 'the revoked key with revoked_at')
})

t.test('SSA claims', async (t) => {
  const ssa = await api.client.getSoftwareStatementAssertion(software.software_id)
  const { iss, iat, exp, jti, ...claims } = decodeJwt(ssa)
  t.ok(iss && iat && exp && jti, 'JWT claims present')
  conforms(t, softwareStatementAssertionClaims, claims, 'SSA claims')
})

t.test('participant API answers', async (t) => {
  const read = { scope: 'directory:read' }
  conforms(t, organisationRecord, await api.call('GET', orgPath, read), 'organisation')
  conforms(t, softwareStatementRecord, await api.call('GET', softwarePath, read), 'software statement')
  conforms(t, z.array(authorisationServerRecord), await api.call('GET', `${orgPath}/authorisation-servers`, read), 'authorisation servers')
  conforms(t, issuedCertificate, await api.call('POST', `${softwarePath}/certificates`, { json: { type: 'transport', csr: makeCsr(newKey()) } }), 'issued certificate')
  conforms(t, issuedCertificate, revoked, 'revoked certificate')
  const list = conforms(t, z.array(certificateListItem), await api.call('GET', `${orgPath}/certificates`, read), 'certificate list')
  t.equal(list?.find((c) => c.serial === spare.serial)?.revocation_reason, 'cessationOfOperation')
  t.ok(list?.some((c) => c.serial === transport.serial && c.status === 'active'))
})

t.test('/openapi.json documents the public documents with the same schemas', async (t) => {
  const doc = await getJson('/openapi.json') as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>> }
  for (const path of ['/participants', '/jwks', '/organisations/{orgId}/jwks', '/organisations/{orgId}/software-statements/{softwareId}/jwks']) {
    const schema = JSON.stringify(doc.paths[path]?.get?.responses['200']?.content ?? {})
    t.match(schema, path === '/participants' ? /org_id/ : /kid/, `${path}: a 200 response schema`)
  }
})
