import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import ipaddr from 'ipaddr.js'
import { Agent } from 'undici'

/** Why a push target is refused, or undefined when it is acceptable. */
export type TargetProblem = string | undefined

/**
 * Only globally routable unicast addresses: private, loopback, link-local, CGNAT, multicast,
 * reserved and IPv4-mapped forms of those would let a subscriber aim our requests at our own
 * network (server-side request forgery).
 */
export function publicAddress (address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  return ipaddr.process(address).range() === 'unicast'
}

/** Static checks on a subscription URL; the resolved addresses are checked again on every connection. */
export function checkTargetUrl (raw: string, allowPrivate: boolean): TargetProblem {
  let url: URL
  try { url = new URL(raw) } catch { return 'must be an absolute URL' }
  if (url.username || url.password) return 'must not carry credentials'
  if (url.hash) return 'must not have a fragment'
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'must be an https URL'
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (!allowPrivate && ipaddr.isValid(host) && !publicAddress(host)) return `${host} is not a public address`
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) return `${host} is not a public address`
  return undefined
}

/** Resolves a host name and refuses it when any of its addresses is not public. */
export async function checkTargetHost (raw: string, allowPrivate: boolean): Promise<TargetProblem> {
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '')
  if (allowPrivate || ipaddr.isValid(host)) return undefined
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, a) => (err ? reject(err) : resolve(a)))).catch(() => undefined)
  if (!addresses || addresses.length === 0) return `${host} does not resolve`
  const bad = addresses.find((a) => !publicAddress(a.address))
  return bad ? `${host} resolves to ${bad.address}, which is not a public address` : undefined
}

/**
 * The dispatcher for pushes: TLS verified, connect time bounded, and, unless private targets are
 * allowed, the address checked at connect time (so a name that resolved to a public address when
 * subscribed cannot be re-pointed at an internal one: DNS rebinding).
 */
export function pushAgent (opts: { allowPrivate: boolean, timeoutMs: number }): Agent {
  const lookup = (hostname: string, options: object, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, [])
      const bad = opts.allowPrivate ? undefined : addresses.find((a) => !publicAddress(a.address))
      if (bad) return callback(Object.assign(new Error(`${hostname} resolves to ${bad.address}, which is not a public address`), { code: 'EPRIVATETARGET' }), [])
      if ((options as { all?: boolean }).all) return callback(null, addresses)
      callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
  return new Agent({
    connect: { rejectUnauthorized: true, timeout: opts.timeoutMs, lookup: lookup as never },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    connections: 4,
    // A receiver's answer is a status and at most a short error: nothing larger is read.
    maxResponseSize: 64 * 1024,
  })
}
