// Strict DER (X.690 §10) at the CA's two doors for hostile bytes: CSRs and OCSP requests. Each case is a request
// that carries a valid signature (CSRs are re-signed over the exact bytes sent) or a real CertID (OCSP), so a
// lenient reader would accept it; the encoding alone must make the directory refuse it, and nothing changes.
import { execFileSync } from 'node:child_process'
import { sign, type KeyObject } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import forge from 'node-forge'
import t from 'tap'
import { request } from 'undici'
import { Problem } from '../../src/errors.js'
import { parseCsr } from '../../src/pki/csr.js'
import { OcspMalformed, parseOcspRequest } from '../../src/pki/ocsp.js'
import { fromPem, toPem } from '../../src/pki/pem.js'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr } from '../helpers/participant.js'

// ---------------------------------------------------------------- a BER writer for the test's own bad encodings

type Node = forge.asn1.Asn1
/** How to misencode the node at a path ("0.1.2": child indices from the top). */
interface Mutation {
  /** long: the length in long form with a redundant leading octet (`04 81 01 00`); indefinite: `80` … `00 00`. */
  length?: 'long' | 'indefinite'
  content?: (c: Buffer) => Buffer
  tag?: number
}

const read = (der: Buffer): Node =>
  (forge.asn1.fromDer as unknown as (b: string, o: object) => Node)(der.toString('binary'), { strict: true, decodeBitStrings: false })

function lengthOctets (n: number, form: Mutation['length']): Buffer {
  if (form === 'indefinite') return Buffer.from([0x80])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  if (form === 'long') return Buffer.from([0x80 | (bytes.length + 1), 0, ...bytes])
  return n < 0x80 ? Buffer.from([n]) : Buffer.from([0x80 | bytes.length, ...bytes])
}

function encode (n: Node, mutations: Record<string, Mutation>, path = ''): Buffer {
  const m = mutations[path] ?? {}
  const tag = m.tag ?? (n.tagClass | (n.constructed ? 0x20 : 0) | n.type)
  let c: Buffer = Array.isArray(n.value)
    ? Buffer.concat(n.value.map((child, i) => encode(child, mutations, path === '' ? String(i) : `${path}.${i}`)))
    : Buffer.from(n.value, 'binary')
  if (m.content !== undefined) c = m.content(c)
  return Buffer.concat([Buffer.from([tag]), lengthOctets(c.length, m.length), c, m.length === 'indefinite' ? Buffer.from([0, 0]) : Buffer.alloc(0)])
}

// ---------------------------------------------------------------- the directory and a participant

const ctx = await buildTestApp(t)
const alice = await enrolParticipant(ctx, { legalName: 'Strict Encodings Ltd' })
t.teardown(() => alice.close())
const sw = (await alice.call('POST', `/organisations/${alice.orgId}/software-statements`, { json: { client_name: 'Strict', redirect_uris: ['https://strict.example/cb'], roles: ['data-recipient'] } })).json()
const issue = (csr: string) => alice.call('POST', `/organisations/${alice.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'transport', csr } })

// A certificate to ask about, issued before any test runs (tests run while module code continues)
const dir = mkdtempSync(join(tmpdir(), 'strict-der-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const leafPem = (await issue(makeCsr(ecKey()))).json().certificate as string
writeFileSync(join(dir, 'leaf.pem'), leafPem)
writeFileSync(join(dir, 'issuing.pem'), toPem(ctx.services.authority.issuingCaDer(), 'CERTIFICATE'))
// OCSPRequest { TBSRequest { requestList { Request { CertID { hashAlgorithm, nameHash, keyHash, serial } } } } }
execFileSync('openssl', ['ocsp', '-no_nonce', '-issuer', join(dir, 'issuing.pem'), '-cert', join(dir, 'leaf.pem'), '-reqout', join(dir, 'req.der')])
const ocspTemplate = read(readFileSync(join(dir, 'req.der')))
const certId = '0.0.0.0'
const ocspRequest = (mutations: Record<string, Mutation> = {}, trailing = Buffer.alloc(0)): Buffer =>
  Buffer.concat([encode(ocspTemplate, mutations), trailing])

// ---------------------------------------------------------------- CSRs

const key: KeyObject = ecKey()
// CertificationRequest { info { version, subject { SET { SEQ { OID 2.5.4.3, UTF8 } } }, spki, [0] attrs }, alg, sig }
const template = read(fromPem(makeCsr(key, '/CN=strict', ['-addext', 'basicConstraints=critical,CA:FALSE']), 'CERTIFICATE REQUEST')[0]!)
const [info, sigAlg] = template.value as Node[]

/** A CSR whose info is encoded with `infoMutations` (paths inside info) and signed over exactly those bytes. */
function csr (infoMutations: Record<string, Mutation> = {}, outer: { mutation?: Mutation, trailing?: Buffer } = {}): Buffer {
  const infoDer = encode(info!, infoMutations)
  const signature = sign('sha256', infoDer, key)
  const body = Buffer.concat([infoDer, encode(sigAlg!, {}), encode(forge.asn1.create(0, forge.asn1.Type.BITSTRING, false, '\x00' + signature.toString('binary')), {})])
  const top = encode(forge.asn1.create(0, forge.asn1.Type.OCTETSTRING, false, body.toString('binary')), { '': { tag: 0x30, ...outer.mutation } })
  return Buffer.concat([top, outer.trailing ?? Buffer.alloc(0)])
}

/** An OBJECT IDENTIFIER whose last subidentifier never ends (its last octet keeps the continuation bit). */
const truncate = (c: Buffer): Buffer => Buffer.from([...c.subarray(0, -1), c[c.length - 1]! | 0x80])

const notDer = /^malformed CSR: not DER \(X\.690 §10\)/
const csrCases: Array<[string, Buffer, RegExp]> = [
  ['non-minimal length of the version INTEGER (02 81 01 00)', csr({ 0: { length: 'long' } }), notDer],
  ['non-minimal length of the certificationRequestInfo', csr({ '': { length: 'long' } }), notDer],
  ['non-minimal length of the whole request', csr({}, { mutation: { length: 'long' } }), notDer],
  ['non-minimal length of the subject\'s UTF8String', csr({ '1.0.0.1': { length: 'long' } }), notDer],
  ['indefinite length of the subject', csr({ 1: { length: 'indefinite' } }), notDer],
  ['indefinite length of the whole request', csr({}, { mutation: { length: 'indefinite' } }), notDer],
  ['indefinite length of a primitive (the version)', csr({ 0: { length: 'indefinite' } }), /^malformed CSR: /],
  ['non-minimal INTEGER version (02 02 00 00)', csr({ 0: { content: (c) => Buffer.concat([Buffer.from([0]), c]) } }), notDer],
  ['truncated OID in the subject (55 04 83)', csr({ '1.0.0.0': { content: truncate } }), /^malformed CSR: bad OBJECT IDENTIFIER \(truncated\)$/],
  ['OID with a non-minimal subidentifier (55 80 04 03)', csr({ '1.0.0.0': { content: (c) => Buffer.from([c[0]!, 0x80, ...c.subarray(1)]) } }), /^malformed CSR: bad OBJECT IDENTIFIER \(non-minimal\)$/],
  ['truncated OID in the key algorithm (last octet dropped)', csr({ '2.0.0': { content: (c) => truncate(c.subarray(0, -1)) } }), /^malformed CSR: bad OBJECT IDENTIFIER \(truncated\)$/],
  ['trailing bytes after the request', csr({}, { trailing: Buffer.from([0x00, 0x00]) }), /^trailing data after the certificate request \(2 bytes\)$/],
  ['wrong tag: subject as a SET', csr({ 1: { tag: 0x31 } }), /^malformed CSR: subject: expected tag 0x30, found 0x31$/],
  ['wrong tag: version as ENUMERATED', csr({ 0: { tag: 0x0a } }), /^malformed CSR: version: expected tag 0x2, found 0xa$/],
  ['wrong tag: public key as an OCTET STRING', csr({ '2.1': { tag: 0x04 } }), /^malformed CSR: BIT STRING: expected tag 0x3, found 0x4$/],
  ['constructed (BER) UTF8String in the subject', csr({ '1.0.0.1': { tag: 0x2c, content: (c) => encode(forge.asn1.create(0, 12, false, c.toString('binary')), {}) } }), /^malformed CSR: not DER \(X\.690 §10\.2\): a constructed encoding of universal type 12$/],
  ['BOOLEAN TRUE as 01 (a critical flag in the requested extensions)', csr({ '3.0.1.0.0.1': { content: () => Buffer.from([0x01]) } }), /^malformed CSR: not DER \(X\.690 §11\.1\)/],
]

t.test('CSRs: the unmutated re-signed request is accepted (the cases below fail only on their encoding)', async (t) => {
  const res = await issue(toPem(csr(), 'CERTIFICATE REQUEST'))
  t.equal(res.status, 201, res.text)
})

t.test('CSRs that are not strict DER are refused with the reason, by the service and over the API; nothing is stored', async (t) => {
  const before = [await ctx.db.prisma.certificate.count(), await ctx.db.prisma.auditEvent.count()]
  for (const [name, der, reason] of csrCases) {
    let detail: string | undefined
    try {
      parseCsr(der)
    } catch (e) {
      if (!(e instanceof Problem)) throw e
      detail = e.detail
    }
    t.match(detail, reason, `service: ${name}`)
    const res = await issue(toPem(der, 'CERTIFICATE REQUEST'))
    t.equal(res.status, 400, `API status: ${name}`)
    t.match(res.json(), { type: 'urn:ecosystem-directory:problem:invalid-csr', detail: reason }, `API problem: ${name}`)
  }
  t.same([await ctx.db.prisma.certificate.count(), await ctx.db.prisma.auditEvent.count()], before, 'no certificate, no audit event')
})

// ---------------------------------------------------------------- OCSP requests

const ocspNotDer = /^malformed OCSP request: not DER \(X\.690 §10\)/
const ocspCases: Array<[string, Buffer, RegExp]> = [
  ['non-minimal length of the serial number', ocspRequest({ [`${certId}.3`]: { length: 'long' } }), ocspNotDer],
  ['non-minimal length of an OCTET STRING (04 81 14 …)', ocspRequest({ [`${certId}.1`]: { length: 'long' } }), ocspNotDer],
  ['non-minimal length of the whole request', ocspRequest({ '': { length: 'long' } }), ocspNotDer],
  ['indefinite length of the requestList', ocspRequest({ '0.0': { length: 'indefinite' } }), ocspNotDer],
  ['indefinite length of the whole request', ocspRequest({ '': { length: 'indefinite' } }), ocspNotDer],
  ['non-minimal INTEGER serial', ocspRequest({ [`${certId}.3`]: { content: (c) => Buffer.concat([Buffer.from([0]), c]) } }), ocspNotDer],
  ['truncated OID of the hash algorithm', ocspRequest({ [`${certId}.0.0`]: { content: truncate } }), /^malformed OCSP request: bad OBJECT IDENTIFIER \(truncated\)$/],
  ['trailing bytes after the request', ocspRequest({}, Buffer.from([0x00])), /^malformed OCSP request: trailing data after the request \(1 bytes\)$/],
  ['wrong tag: issuerNameHash as a BIT STRING', ocspRequest({ [`${certId}.1`]: { tag: 0x03 } }), /^malformed OCSP request: issuerNameHash: expected tag 0x4, found 0x3$/],
  ['wrong tag: CertID as a SET', ocspRequest({ [certId]: { tag: 0x31 } }), /^malformed OCSP request: CertID: expected tag 0x30, found 0x31$/],
]

const malformedRequest = [0x30, 0x03, 0x0a, 0x01, 0x01] // OCSPResponse { responseStatus malformedRequest (1) }

async function post (der: Buffer): Promise<Buffer> {
  const res = await request(`${ctx.publicUrl}/pki/ocsp`, { method: 'POST', body: der, headers: { 'content-type': 'application/ocsp-request' } })
  return Buffer.from(await res.body.arrayBuffer())
}
async function get (der: Buffer): Promise<Buffer> {
  const res = await request(`${ctx.publicUrl}/pki/ocsp/${encodeURIComponent(der.toString('base64'))}`)
  return Buffer.from(await res.body.arrayBuffer())
}

t.test('OCSP: the re-encoded request is answered (successful, good)', async (t) => {
  t.ok(ocspRequest().equals(readFileSync(join(dir, 'req.der'))), 'the test writer re-encodes the DER request exactly')
  for (const answer of [await post(ocspRequest()), await get(ocspRequest())]) {
    writeFileSync(join(dir, 'resp.der'), answer)
    const out = execFileSync('openssl', ['ocsp', '-respin', join(dir, 'resp.der'), '-issuer', join(dir, 'issuing.pem'), '-cert', join(dir, 'leaf.pem'), '-noverify'], { encoding: 'utf8' })
    t.match(out, /leaf\.pem: good/)
  }
})

t.test('OCSP requests that are not strict DER: OcspMalformed with the reason; malformedRequest over POST and GET', async (t) => {
  const before = await ctx.db.prisma.auditEvent.count()
  for (const [name, der, reason] of ocspCases) {
    let err: unknown
    try { parseOcspRequest(der) } catch (e) { err = e }
    t.ok(err instanceof OcspMalformed, `service: ${name}`)
    t.match((err as Error | undefined)?.message, reason, `reason: ${name}`)
    t.same([...await post(der)], malformedRequest, `POST: ${name}`)
    t.same([...await get(der)], malformedRequest, `GET: ${name}`)
  }
  t.equal(await ctx.db.prisma.auditEvent.count(), before, 'nothing recorded')
})
