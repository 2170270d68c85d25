import type { AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Prisma, Tx } from '../db/database.js'

export interface RegistryDeps {
  prisma: Prisma
  audit: AuditLog
  clock: Clock
  config: Pick<Config, 'DIRECTORY_ISSUER' | 'ROLES'>
}

/**
 * Every change to what the public documents show bumps this counter in the same transaction; each
 * instance polls it to know when its cached documents went stale (DESIGN.md §8).
 */
export async function bumpRegistryVersion (tx: Tx): Promise<void> {
  await tx.$executeRawUnsafe(
    "INSERT INTO counters (name, value) VALUES ('registry', 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1")
}

export const keystoreUrls = (issuer: string) => ({
  organisation: (orgId: string) => `${issuer}/organisations/${orgId}/jwks`,
  software: (orgId: string, softwareId: string) => `${issuer}/organisations/${orgId}/software-statements/${softwareId}/jwks`,
})
