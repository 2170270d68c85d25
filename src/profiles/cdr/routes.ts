import formbody from '@fastify/formbody'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { z } from 'zod'
import type { App } from '../../app.js'
import { scopes } from '../../auth/scopes.js'
import type { TokenRequest } from '../../auth/tokens.js'
import { OAuthError, Problem } from '../../errors.js'
import { brand, brandCreate, brandParams, brandPatch, legalEntity, legalEntityInput, softwareProduct, softwareProductInput } from '../../registry/cdr-schemas.js'
import { uuid } from '../../registry/schemas.js'
import { orgParams, softwareParams } from '../../routes/mtls/schemas.js'
import { sendDocument } from '../../routes/send-document.js'
import { profileErrors } from '../errors.js'
import { CdrError, cdrCodes, errorList } from './errors.js'
import { registerScope } from './tokens.js'
import { negotiateVersion } from './versions.js'

const tags = ['cdr']
const holderIndustry = z.object({ industry: z.enum(['banking', 'energy', 'non-bank-lending', 'telco', 'all']) })
// CDR Register 1.36: recipient endpoints are sector-agnostic, {industry} is `all`.
const recipientIndustry = z.object({ industry: z.literal('all') })

/** Which x-v each endpoint serves: the current version of cdr-register-openapi.yaml 1.36. */
export const cdrVersions = {
  dataHolderBrands: [3], dataHolderBrandsSummary: [2], ssa: [4], dataHolderStatus: [2], softwareProductStatus: [3], dataRecipientStatus: [3], dataRecipients: [4],
} as const

function common (app: App): void {
  profileErrors(app, {
    bodyLimit: app.services.config.BODY_LIMIT,
    render: (p: Problem, reply: FastifyReply) => {
      if (p.status === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer realm="cdr-register"')
      return reply.code(p.status).type('application/json; charset=utf-8').send(errorList(p))
    },
  })
}

const version = (supported: readonly number[]): preHandlerAsyncHookHandler => async (request, reply) => {
  reply.header('x-v', String(negotiateVersion(request.headers, supported)))
}

/** Public listener: the Register's IdP discovery and token-signing keys, at the paths the document gives. */
export async function cdrIdpPublicRoutes (app: App): Promise<void> {
  common(app)
  const cdr = app.services.profiles.cdr!
  app.get('/.well-known/openid-configuration', { schema: { tags, summary: 'CDR Register OpenID Provider configuration' } },
    async (_r, reply) => reply.type('application/json').send(cdr.openidConfiguration()))
  app.get('/.well-known/openid-configuration/jwks', { schema: { tags, summary: 'Keys that sign Register access tokens' } },
    async (_r, reply) => reply.type('application/json').send(cdr.jwks()))
}

/** mTLS listener: the Register's token endpoint (errors in RFC 6749 form, from the app's own handler). */
export async function cdrIdpProtectedRoutes (app: App): Promise<void> {
  await app.register(formbody, { bodyLimit: 16 * 1024 })
  const cdr = app.services.profiles.cdr!
  app.post('/connect/token', {
    schema: { tags, summary: 'Register access token: client_credentials, private_key_jwt as the software product, scope cdr-register:read' },
    bodyLimit: 16 * 1024, config: { oauthErrors: true },
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    if (!request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) throw new OAuthError('invalid_request', 'the token request must be application/x-www-form-urlencoded')
    const body = (request.body ?? {}) as Record<string, unknown>
    const form: TokenRequest = {}
    for (const name of ['grant_type', 'client_assertion_type', 'client_assertion', 'client_id', 'scope'] as const) {
      const v = body[name]
      if (Array.isArray(v)) throw new OAuthError('invalid_request', `${name} is repeated`)
      if (v !== undefined) form[name] = String(v)
    }
    let cert
    try { cert = await request.clientCertificate() } catch (e) {
      if (!(e instanceof Problem)) throw e
      throw new OAuthError('invalid_client', e.detail ?? e.title)
    }
    return cdr.tokens.issue(form, cert)
  })
}

/** Public listener, under /cdr-register/v1: JWKS, statuses, data recipients, data holder brand summary. */
export async function cdrPublicRoutes (app: App): Promise<void> {
  common(app)
  const { documents, config } = app.services
  const cdr = app.services.profiles.cdr!
  const base = `${config.DIRECTORY_ISSUER}/cdr-register/v1`
  const list = (key: string, self: string, load: () => Promise<unknown[]>) => async (request: FastifyRequest, reply: FastifyReply) =>
    sendDocument(request, reply, await documents.get(`cdr:${key}`, async () => ({
      body: JSON.stringify({ data: await load(), links: { self }, meta: {} }), contentType: 'application/json',
    })), config.CACHE_MAX_AGE)

  app.get('/jwks', { schema: { tags, summary: 'Keys that sign SSAs' } }, async (request, reply) =>
    sendDocument(request, reply, await documents.get('cdr:jwks', async () => ({ body: JSON.stringify(cdr.jwks()), contentType: 'application/json' })), config.CACHE_MAX_AGE))

  app.get('/:industry/data-holders/brands/summary', { preHandler: version(cdrVersions.dataHolderBrandsSummary), schema: { tags, params: holderIndustry, summary: 'GetDataHolderBrandsSummary' } },
    async (r, reply) => list(`summary:${r.params.industry}`, `${base}/${r.params.industry}/data-holders/brands/summary`,
      async () => (await cdr.dataHolderBrands(r.params.industry)).filter((b) => b.record.status !== 'REMOVED').map((b) => b.summary))(r, reply))
  app.get('/:industry/data-holders/status', { preHandler: version(cdrVersions.dataHolderStatus), schema: { tags, params: holderIndustry, summary: 'GetDataHolderStatuses' } },
    async (r, reply) => list(`holder-status:${r.params.industry}`, `${base}/${r.params.industry}/data-holders/status`, () => cdr.dataHolderStatuses(r.params.industry))(r, reply))
  app.get('/:industry/data-recipients/brands/software-products/status', { preHandler: version(cdrVersions.softwareProductStatus), schema: { tags, params: recipientIndustry, summary: 'GetSoftwareProductsStatuses' } },
    list('product-status', `${base}/all/data-recipients/brands/software-products/status`, () => cdr.softwareProductStatuses()))
  app.get('/:industry/data-recipients/status', { preHandler: version(cdrVersions.dataRecipientStatus), schema: { tags, params: recipientIndustry, summary: 'GetDataRecipientsStatuses' } },
    list('recipient-status', `${base}/all/data-recipients/status`, () => cdr.dataRecipientStatuses()))
  app.get('/:industry/data-recipients', { preHandler: version(cdrVersions.dataRecipients), schema: { tags, params: recipientIndustry, summary: 'GetDataRecipients' } },
    list('recipients', `${base}/all/data-recipients`, () => cdr.dataRecipients()))
}

const positiveInt = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback
  if (!/^[1-9]\d{0,8}$/.test(value)) throw CdrError(400, cdrCodes.fieldInvalid, `${name} must be a positive integer`)
  return Number(value)
}
const maxPageSize = 1000

/** mTLS listener, under /cdr-register/v1: data holder brands and SSAs, for Register access tokens only. */
export async function cdrProtectedRoutes (app: App): Promise<void> {
  common(app)
  const { config } = app.services
  const cdr = app.services.profiles.cdr!

  // The Register's token rules on every request: its audience, bound to this connection's
  // certificate, scope cdr-register:read, and the software product in good standing now. Some
  // operations declare no 403: a refusal there is their 401.
  const registerToken = (refuse: 401 | 403): preHandlerAsyncHookHandler => async (request, reply) => {
    const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(request.headers.authorization ?? '')
    const challenge = (error: string) => reply.header('www-authenticate', `Bearer realm="cdr-register", error="${error}"`)
    if (!m) { reply.header('www-authenticate', 'Bearer realm="cdr-register"'); throw new Problem(401, 'cdr', 'Unauthorized', 'a Register access token is required') }
    const cert = await request.clientCertificate()
    let claims
    try { claims = await cdr.tokens.verify(m[1]!) } catch {
      challenge('invalid_token')
      throw new Problem(401, 'cdr', 'Unauthorized', 'the access token is not a valid Register access token')
    }
    if (claims.cnf['x5t#S256'] !== cert.x5tS256) { challenge('invalid_token'); throw new Problem(401, 'cdr', 'Unauthorized', 'the access token is bound to another certificate') }
    if (!claims.scope.split(' ').includes(registerScope)) {
      challenge('insufficient_scope')
      throw refuse === 401 ? new Problem(401, 'cdr', 'Unauthorized', `the access token lacks ${registerScope}`) : CdrError(403, cdrCodes.adrNotActive, `the access token lacks ${registerScope}`)
    }
    const why = await cdr.standing(claims.client_id)
    if (why) {
      if (refuse === 401) { challenge('invalid_token'); throw new Problem(401, 'cdr', 'Unauthorized', why) }
      throw CdrError(403, cdrCodes.adrNotActive, why)
    }
    request.cdrProduct = claims.client_id
  }

  const pageQuery = z.object({ page: z.string().optional(), 'page-size': z.string().optional(), 'updated-since': z.string().optional() })
  app.get('/:industry/data-holders/brands', {
    preHandler: [registerToken(401), version(cdrVersions.dataHolderBrands)],
    schema: { tags, params: holderIndustry, querystring: pageQuery, summary: 'GetDataHolderBrands' },
  }, async (r, reply) => {
    const page = positiveInt('page', r.query.page, 1)
    const size = positiveInt('page-size', r.query['page-size'], 25)
    if (size > maxPageSize) throw CdrError(400, cdrCodes.invalidPageSize, `page-size must be at most ${maxPageSize}`)
    const since = r.query['updated-since']
    if (since !== undefined && Number.isNaN(Date.parse(since))) throw CdrError(400, cdrCodes.invalidDateTime, 'updated-since must be a date-time')
    const all = (await cdr.dataHolderBrands(r.params.industry)).filter((b) => since === undefined || Date.parse(b.lastUpdated) > Date.parse(since))
    const totalPages = Math.ceil(all.length / size)
    if (page > Math.max(totalPages, 1)) throw CdrError(400, cdrCodes.invalidPage, `page ${page} is beyond the last page (${totalPages})`)
    const link = (p: number) => {
      const q = new URLSearchParams({ ...(since !== undefined ? { 'updated-since': since } : {}), page: String(p), 'page-size': String(size) })
      return `${config.MTLS_BASE_URL}/cdr-register/v1/${r.params.industry}/data-holders/brands?${q}`
    }
    const links = {
      self: config.MTLS_BASE_URL + r.url,
      ...(totalPages > 0 ? { first: link(1), last: link(totalPages) } : {}),
      ...(page > 1 ? { prev: link(page - 1) } : {}),
      ...(page < totalPages ? { next: link(page + 1) } : {}),
    }
    return reply.type('application/json').header('cache-control', 'no-store')
      .send({ data: all.slice((page - 1) * size, page * size).map((b) => b.record), links, meta: { totalRecords: all.length, totalPages } })
  })

  app.get('/:industry/data-recipients/brands/:brandId/software-products/:productId/ssa', {
    preHandler: [registerToken(403), version(cdrVersions.ssa)],
    schema: { tags, params: recipientIndustry.extend({ brandId: z.string().max(36), productId: z.string().max(36) }), summary: 'GetSoftwareStatementAssertion' },
  }, async (r, reply) => {
    const { brandId, productId } = r.params
    if (!uuid.safeParse(productId).success) throw CdrError(404, cdrCodes.notFound, `no software product ${productId}`)
    if (!uuid.safeParse(brandId).success) throw CdrError(403, cdrCodes.invalidBrand, `no brand ${brandId}`)
    const ssa = await cdr.assertion(brandId, productId, r.cdrProduct!, { actor: `software_product:${r.cdrProduct!}`, requestId: r.id })
    // The body is the compact JWS itself, as the Register sends it.
    return reply.type('application/json').header('cache-control', 'no-store').send(ssa)
  })
}

/** The operator's API for the Register's data (mTLS, directory:admin), in the native problem+json. */
export async function cdrAdminRoutes (app: App): Promise<void> {
  app.addHook('preHandler', app.requireScope(scopes.admin))
  const brands = app.services.profiles.cdr!.brands
  const atags = ['admin', 'cdr']
  const who = (r: { principal?: { clientId: string }, id: string }) => ({ actor: `operator:${r.principal!.clientId}`, requestId: r.id })
  app.get('/admin/organisations/:orgId/legal-entity', { schema: { tags: atags, params: orgParams, response: { 200: legalEntity } } },
    async (r) => brands.getLegalEntity(r.params.orgId))
  app.put('/admin/organisations/:orgId/legal-entity', { schema: { tags: atags, params: orgParams, body: legalEntityInput, response: { 200: legalEntity } } },
    async (r) => brands.putLegalEntity(r.params.orgId, r.body, who(r)))
  app.get('/admin/organisations/:orgId/brands', { schema: { tags: atags, params: orgParams, response: { 200: z.array(brand) } } },
    async (r) => brands.list(r.params.orgId))
  app.post('/admin/organisations/:orgId/brands', { schema: { tags: atags, params: orgParams, body: brandCreate, response: { 201: brand } } },
    async (r, reply) => reply.code(201).send(await brands.create(r.params.orgId, r.body, who(r))))
  app.patch('/admin/organisations/:orgId/brands/:brandId', { schema: { tags: atags, params: brandParams, body: brandPatch, response: { 200: brand } } },
    async (r) => brands.update(r.params.orgId, r.params.brandId, r.body, who(r)))
  app.get('/admin/organisations/:orgId/software-statements/:softwareId/software-product', { schema: { tags: atags, params: softwareParams, response: { 200: softwareProduct } } },
    async (r) => brands.getSoftwareProduct(r.params.orgId, r.params.softwareId))
  app.put('/admin/organisations/:orgId/software-statements/:softwareId/software-product', { schema: { tags: atags, params: softwareParams, body: softwareProductInput, response: { 200: softwareProduct } } },
    async (r) => brands.putSoftwareProduct(r.params.orgId, r.params.softwareId, r.body, who(r)))
}

declare module 'fastify' {
  interface FastifyRequest { cdrProduct?: string }
}
