// The baseline for a cached public document: a bare node:http server (own process, one thread, like the
// directory) that answers every GET with the same bytes and the same headers as the directory's answer it
// was given — a fresh random x-request-id included — and 304 on a matching If-None-Match. It does nothing
// else: no routing, validation, logging or cache lookup.
//
//   BARE_PORT=… BARE_VARIANTS=/path/variants.json node --import tsx bench/lib/bare-server.ts
// variants.json: [{ "encoding": "identity" | "gzip" | "br", "file": "/path/body", "headers": {…} }]
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'

interface Variant { encoding: string, file: string, headers: Record<string, string> }

const variants = (JSON.parse(readFileSync(process.env.BARE_VARIANTS!, 'utf8')) as Variant[])
  .map((v) => ({ ...v, body: readFileSync(v.file) }))
const identity = variants.find((v) => v.encoding === 'identity') ?? variants[0]!

createServer((req, res) => {
  const accept = req.headers['accept-encoding'] ?? ''
  const v = variants.find((x) => x.encoding !== 'identity' && new RegExp(`\\b${x.encoding}\\b`).test(accept)) ?? identity
  const headers: Record<string, string> = { ...v.headers, 'x-request-id': randomUUID() }
  if (req.headers['if-none-match'] === v.headers.etag) {
    const { 'content-length': _l, 'content-type': _t, 'content-encoding': _e, ...rest } = headers
    res.writeHead(304, rest).end()
    return
  }
  res.writeHead(200, headers).end(v.body)
}).listen(Number(process.env.BARE_PORT), '127.0.0.1', () => process.stdout.write('ready\n'))
