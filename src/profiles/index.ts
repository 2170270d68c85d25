import type { App } from '../app.js'
import { profilePaths } from './common.js'
import { obbrProtectedRoutes, obbrPublicRoutes } from './obbr/routes.js'
import type { ObbrProfile } from './obbr/service.js'
import { cdrAdminRoutes, cdrIdpProtectedRoutes, cdrIdpPublicRoutes, cdrProtectedRoutes, cdrPublicRoutes } from './cdr/routes.js'
import { idpPath, type CdrProfile } from './cdr/service.js'
import { ukProtectedRoutes, ukPublicRoutes } from './uk/routes.js'
import type { UkProfile } from './uk/service.js'

/** The enabled ecosystem profiles' services (undefined when a profile is off). */
export interface Profiles {
  obbr?: ObbrProfile
  uk?: UkProfile
  cdr?: CdrProfile
}

/** Mounts each enabled profile's public routes under its base path. */
export async function registerPublicProfiles (app: App): Promise<void> {
  const on = new Set(app.services.config.ECOSYSTEM_PROFILES)
  if (on.has('obbr')) await app.register(obbrPublicRoutes, { prefix: profilePaths.obbr })
  if (on.has('uk')) await app.register(ukPublicRoutes, { prefix: profilePaths.uk })
  if (on.has('cdr')) {
    // The Register's IdP sits beside its API at the path the CDR document gives (/idp/...).
    await app.register(cdrPublicRoutes, { prefix: profilePaths.cdr })
    await app.register(cdrIdpPublicRoutes, { prefix: idpPath })
  }
}

/** Mounts each enabled profile's mTLS routes under its base path. */
export async function registerProtectedProfiles (app: App): Promise<void> {
  const on = new Set(app.services.config.ECOSYSTEM_PROFILES)
  if (on.has('obbr')) await app.register(obbrProtectedRoutes, { prefix: profilePaths.obbr })
  if (on.has('uk')) await app.register(ukProtectedRoutes, { prefix: profilePaths.uk })
  if (on.has('cdr')) {
    await app.register(cdrProtectedRoutes, { prefix: profilePaths.cdr })
    await app.register(cdrIdpProtectedRoutes, { prefix: idpPath })
    await app.register(cdrAdminRoutes)
  }
}
