import { certificateListItem, issuedCertificate, revocationReason } from '@ecosystem-directory/sdk'
import { z } from 'zod'
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

// The issued certificate and the organisation's certificate list are the SDK's wire contract: one definition for
// what the directory answers and what DirectoryClient decodes.
export { issuedCertificate as certificate, certificateListItem }

export const revokeRequest = z.object({ reason: revocationReason }).strict()
