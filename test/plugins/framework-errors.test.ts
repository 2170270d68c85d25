import { connect } from 'node:net'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { operatorOf } from '../helpers/participant.js'

// Errors raised before any of our handlers (Node's HTTP parser, Fastify's router, body parsing)
// still answer in the API's format: problem+json, and RFC 6749 JSON at the token endpoint.
const ctx = await buildTestApp(t)
const problemType = 'application/problem+json; charset=utf-8'

/** One raw HTTP/1.1 exchange, for requests no well-behaved client library would send. */
function raw (port: number, request: string): Promise<{ status: number, headers: string, body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const [head = '', body = ''] = text.split('\r\n\r\n')
      resolve({ status: Number(head.split(' ')[1]), headers: head, body })
    })
    socket.end(request, 'latin1')
  })
}
const publicPort = Number(new URL(ctx.publicUrl).port)

// (an OCSP GET answers in OCSP's format instead: test/routes/public/pki.test.ts)
t.test('a URL that does not percent-decode → 400 problem+json', async (t) => {
  for (const url of ['/organisations/%C0%AF/jwks', '/organisations/%E0%A4%A/jwks']) {
    const res = await ctx.app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 400, url)
    t.equal(res.headers['content-type'], problemType)
    t.match(res.json(), { type: 'urn:ecosystem-directory:problem:bad-request', status: 400, detail: /URL/ })
  }
})

t.test('an over-long path parameter → 414 problem+json', async (t) => {
  const res = await ctx.app.inject({ method: 'GET', url: `/organisations/${'a'.repeat(500)}/jwks` })
  t.equal(res.statusCode, 414)
  t.equal(res.headers['content-type'], problemType)
  t.match(res.json(), { type: 'urn:ecosystem-directory:problem:uri-too-long', status: 414 })
})

t.test('oversized headers → 431 problem+json on the socket', async (t) => {
  const res = await raw(publicPort, `GET /jwks HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`)
  t.equal(res.status, 431)
  t.match(res.headers, /content-type: application\/problem\+json/i)
  t.match(JSON.parse(res.body), { type: 'urn:ecosystem-directory:problem:headers-too-large', status: 431 })
})

t.test('a NUL byte in a header → 400 problem+json on the socket', async (t) => {
  const res = await raw(publicPort, 'GET /jwks HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n')
  t.equal(res.status, 400)
  t.match(res.headers, /content-type: application\/problem\+json/i)
  t.match(JSON.parse(res.body), { type: 'urn:ecosystem-directory:problem:bad-request', status: 400 })
})

t.test('413 names the limit of the route, not the global one', async (t) => {
  const enrol = await ctx.app.inject({ method: 'POST', url: '/enrol', headers: { 'content-type': 'application/json' }, payload: `{"code":"${'x'.repeat(70 * 1024)}"}` })
  t.equal(enrol.statusCode, 413)
  t.match(enrol.json(), { status: 413, detail: /65536 bytes/ })
  const ocsp = await ctx.app.inject({ method: 'POST', url: '/pki/ocsp', headers: { 'content-type': 'application/ocsp-request' }, payload: Buffer.alloc(20 * 1024) })
  t.equal(ocsp.statusCode, 413)
  t.match(ocsp.json(), { status: 413, detail: /16384 bytes/ })
})

t.test('/token answers 413 and 415 as RFC 6749 JSON', async (t) => {
  const operator = operatorOf(ctx)
  t.teardown(() => operator.close())
  const big = await operator.http.call('POST', '/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=${'x'.repeat(20 * 1024)}` })
  t.equal(big.status, 413)
  t.match(big.headers['content-type'], /^application\/json/)
  t.equal(big.headers['cache-control'], 'no-store')
  t.match(big.json(), { error: 'invalid_request', error_description: /16384 bytes/ })
  const text = await operator.http.call('POST', '/token', { headers: { 'content-type': 'application/xml' }, body: '<grant_type/>' })
  t.equal(text.status, 415)
  t.match(text.json(), { error: 'invalid_request', error_description: /Content-Type/ })
  t.notOk('type' in text.json(), 'not problem+json')
})
