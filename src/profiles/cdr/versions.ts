import { CdrError, cdrCodes } from './errors.js'

const positive = /^[1-9]\d{0,8}$/

/**
 * CDS "HTTP Headers" version negotiation: `x-v` is required; with `x-min-v` below it the endpoint
 * answers the highest version it supports in [x-min-v, x-v]; an x-min-v at or above x-v counts as
 * absent; nothing supported in range is 406.
 */
export function negotiateVersion (headers: Record<string, string | string[] | undefined>, supported: readonly number[]): number {
  const xv = headers['x-v']
  if (xv === undefined) throw CdrError(400, cdrCodes.headerMissing, 'the x-v header is required')
  if (typeof xv !== 'string' || !positive.test(xv)) throw CdrError(400, cdrCodes.headerInvalidVersion, 'x-v must be a positive integer')
  const xmin = headers['x-min-v']
  if (xmin !== undefined && (typeof xmin !== 'string' || !positive.test(xmin))) throw CdrError(400, cdrCodes.headerInvalidVersion, 'x-min-v must be a positive integer')
  const high = Number(xv)
  const low = xmin !== undefined && Number(xmin) < high ? Number(xmin) : high
  const chosen = supported.filter((v) => v >= low && v <= high).sort((a, b) => b - a)[0]
  if (chosen === undefined) {
    throw CdrError(406, cdrCodes.unsupportedVersion, `versions ${low === high ? high : `${low} to ${high}`} are not supported; this endpoint supports ${supported.join(', ')}`)
  }
  return chosen
}
