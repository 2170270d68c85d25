import t from 'tap'
import { z } from 'zod'
import { buildTestApp } from '../helpers/app.js'

// A fixture route exercises the error plugin the way every JSON route will meet it.
async function appWithEcho (tt: Parameters<typeof buildTestApp>[0], env: Record<string, string> = {}) {
  return buildTestApp(tt, env, {
    publicRoutes: (app) => {
      app.post('/echo', {
        schema: { body: z.object({ name: z.string().max(10), count: z.number().int() }).strict() },
      }, async (req) => req.body)
      app.get('/boom', async () => { throw new Error('secret internals: password=hunter2') })
    },
  })
}

const problemType = 'application/problem+json; charset=utf-8'
// One directory serves every test that needs no configuration of its own.
const shared = await appWithEcho(t)

t.test('valid JSON passes through', async (t) => {
  const { app } = shared
  const res = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'a', count: 1 } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { name: 'a', count: 1 })
})

t.test('malformed JSON → 400 problem', async (t) => {
  const { app } = shared
  const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"name": ' })
  t.equal(res.statusCode, 400)
  t.equal(res.headers['content-type'], problemType)
  t.match(res.json(), { type: 'urn:ecosystem-directory:problem:malformed-json', status: 400, title: 'Malformed JSON' })
})

t.test('empty JSON body → 400 problem', async (t) => {
  const { app } = shared
  const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '' })
  t.equal(res.statusCode, 400)
  t.equal(res.headers['content-type'], problemType)
})

t.test('schema violation → 400 with each failing field', async (t) => {
  const { app } = shared
  const res = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'x'.repeat(11), count: 'one', extra: true } })
  t.equal(res.statusCode, 400)
  const body = res.json()
  t.equal(body.type, 'urn:ecosystem-directory:problem:validation')
  const paths = body.errors.map((e: { path: string }) => e.path)
  t.ok(paths.includes('body.name'), 'names the too-long field')
  t.ok(paths.includes('body.count'), 'names the wrongly-typed field')
  t.ok(body.errors.some((e: { message: string }) => /extra/.test(e.message) || /unrecognized/i.test(e.message)), 'refuses the unknown field')
})

t.test('unknown route → 404 problem', async (t) => {
  const { app } = shared
  const res = await app.inject({ method: 'GET', url: '/no/such/thing' })
  t.equal(res.statusCode, 404)
  t.equal(res.headers['content-type'], problemType)
  t.equal(res.json().type, 'urn:ecosystem-directory:problem:not-found')
})

t.test('wrong method on a known route → 405 with Allow', async (t) => {
  const { app } = shared
  const res = await app.inject({ method: 'DELETE', url: '/echo' })
  t.equal(res.statusCode, 405)
  t.equal(res.headers.allow, 'POST')
  t.equal(res.json().status, 405)
})

t.test('body over the limit → 413 problem', async (t) => {
  const { app } = await appWithEcho(t, { BODY_LIMIT: '2048' })
  const res = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'x'.repeat(4096), count: 1 } })
  t.equal(res.statusCode, 413)
  t.match(res.json(), { status: 413, detail: /2048 bytes/ })
})

t.test('the default limit is 1 MiB', async (t) => {
  const { app } = shared
  const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: `{"name":"${'x'.repeat(1024 * 1024)}","count":1}` })
  t.equal(res.statusCode, 413)
})

t.test('unsupported media type → 415 problem', async (t) => {
  const { app } = shared
  const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/xml' }, payload: '<a/>' })
  t.equal(res.statusCode, 415)
  t.equal(res.headers['content-type'], problemType)
})

t.test('unexpected error → 500 without internals; logged with the request id', async (t) => {
  const { app, logs } = shared
  const res = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'req-boom-1' } })
  t.equal(res.statusCode, 500)
  t.notMatch(res.body, /hunter2|secret internals|stack/)
  t.equal(res.headers['x-request-id'], 'req-boom-1')
  const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'unexpected error')
  t.ok(line, 'the error is logged')
  t.equal(line.reqId, 'req-boom-1')
  t.match(line.err.message, /secret internals/)
})

t.test('authorization headers and cookies never reach the log', async (t) => {
  const { app, logs } = await buildTestApp(t, { LOG_LEVEL: 'trace' }, {
    publicRoutes: (a) => { a.addHook('onRequest', async (req) => { req.log.info({ headers: req.headers }, 'headers seen') }) },
  })
  await app.inject({ method: 'GET', url: '/not-here', headers: { authorization: 'Bearer top-secret-token', cookie: 'sid=cookie-secret' } })
  const all = logs.join('\n')
  t.notMatch(all, /top-secret-token/)
  t.notMatch(all, /cookie-secret/)
  t.match(all, /\[redacted\]/)
})

t.test('a malformed upstream request id is replaced', async (t) => {
  const { app } = shared
  const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\nwith newline' } })
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})
