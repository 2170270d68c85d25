import { z } from 'zod'
import { revocationReasons } from '../../pki/reasons.js'
import { uuid } from '../../registry/schemas.js'

export const orgParams = z.object({ orgId: uuid })
export const softwareParams = z.object({ orgId: uuid, softwareId: uuid })
export const serverParams = z.object({ orgId: uuid, serverId: uuid })
export const serialParams = z.object({ orgId: uuid, serial: z.string().regex(/^[0-9a-fA-F]{1,64}$/, 'must be a hexadecimal serial number') })

export const certificateRequest = z.object({
  type: z.enum(['transport', 'signing']),
  csr: z.string().min(1).max(16 * 1024),
  dns_names: z.array(z.string().max(253)).max(10).optional(),
}).strict()

export const certificate = z.object({
  serial: z.string(),
  type: z.enum(['transport', 'signing']),
  certificate: z.string(),
  chain: z.array(z.string()),
  'x5t#S256': z.string(),
  not_before: z.date(),
  not_after: z.date(),
  status: z.enum(['active', 'revoked']),
})

export const certificateListItem = certificate.extend({
  software_id: z.string().nullable(),
  revoked_at: z.date().optional(),
  revocation_reason: z.string().optional(),
})

export const revokeRequest = z.object({ reason: z.enum(revocationReasons) }).strict()
