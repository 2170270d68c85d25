import { createHash } from 'node:crypto'
import type { Config, EcosystemProfile } from '../config.js'

/** Where each profile is mounted: its own base path on each listener, so a proxy can give it its own host name. */
export const profilePaths: Record<EcosystemProfile, string> = { obbr: '/obbr', uk: '/uk', cdr: '/cdr-register/v1' }

/** The discovery document's `ecosystem_profiles`: each enabled profile's public and mTLS base URLs. */
export function ecosystemProfiles (config: Pick<Config, 'ECOSYSTEM_PROFILES' | 'DIRECTORY_ISSUER' | 'MTLS_BASE_URL'>): Record<string, { public: string, protected: string }> {
  return Object.fromEntries(config.ECOSYSTEM_PROFILES.map((p) => [p, {
    public: config.DIRECTORY_ISSUER + profilePaths[p],
    protected: config.MTLS_BASE_URL + profilePaths[p],
  }]))
}

/**
 * A stable UUID-shaped id for a record the registry keeps inside another (an API resource of an
 * authorisation server, a domain claim): the same inputs give the same id on every instance.
 */
export function derivedId (...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** Role codes as the OBBR and UK ecosystems spell them (DADOS, PAGTO, AISP, PISP): upper case, `_` for `-`. */
export const ecosystemRole = (role: string): string => role.toUpperCase().replace(/-/g, '_')

/** `Active`/`Inactive` as both Raidiam and OBIE spell statuses. */
export const titleStatus = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1)
