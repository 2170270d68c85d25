import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeJwt } from 'jose'

export type Behaviour = 'accept' | 'fail' | 'hang'

/** A real RFC 8935 push receiver on 127.0.0.1: records every SET it accepts, answers as told. */
export class Receiver {
  readonly sets: string[] = []
  behaviour: Behaviour = 'accept'
  /** Milliseconds to wait before answering (a slow receiver). */
  delayMs = 0
  /** Requests seen, whatever the answer. */
  attempts = 0
  private server: Server | undefined
  private port = 0
  private readonly hanging = new Set<ServerResponse>()
  private waiters: Array<() => void> = []

  static async start (): Promise<Receiver> {
    const r = new Receiver()
    await r.up()
    return r
  }

  get url (): string { return `http://127.0.0.1:${this.port}/events` }
  get jtis (): string[] { return this.sets.map((s) => decodeJwt(s).jti!) }
  get types (): string[] { return this.sets.map((s) => Object.keys(decodeJwt(s).events as object)[0]!) }

  /** Listens (again, on the same port after down()). */
  async up (): Promise<void> {
    const server = createServer((req, res) => { this.handle(req, res) })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  /** Stops listening: connections are refused until up(). */
  async down (): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.hanging.clear()
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }

  /** Resolves when at least n SETs have arrived. */
  async received (n: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.sets.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} SETs, got ${this.sets.length}`)
      await new Promise<void>((resolve) => { this.waiters.push(resolve); setTimeout(resolve, 50) })
    }
  }

  private handle (req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      this.attempts++
      if (this.behaviour === 'hang') { this.hanging.add(res); return }
      if (this.behaviour === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"err":"unavailable"}')
        return
      }
      if (req.headers['content-type'] !== 'application/secevent+jwt') {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"err":"invalid_request"}')
        return
      }
      const accept = (): void => {
        this.sets.push(Buffer.concat(chunks).toString())
        res.writeHead(202).end()
        for (const w of this.waiters.splice(0)) w()
      }
      if (this.delayMs > 0) setTimeout(accept, this.delayMs)
      else accept()
    })
  }
}
