import type { App } from '../app.js'
import { profilePaths } from './common.js'
import { obbrProtectedRoutes, obbrPublicRoutes } from './obbr/routes.js'
import type { ObbrProfile } from './obbr/service.js'
import { ukProtectedRoutes, ukPublicRoutes } from './uk/routes.js'
import type { UkProfile } from './uk/service.js'

/** The enabled ecosystem profiles' services (undefined when a profile is off). */
export interface Profiles {
  obbr?: ObbrProfile
  uk?: UkProfile
}

/** Mounts each enabled profile's public routes under its base path. */
export async function registerPublicProfiles (app: App): Promise<void> {
  const on = new Set(app.services.config.ECOSYSTEM_PROFILES)
  if (on.has('obbr')) await app.register(obbrPublicRoutes, { prefix: profilePaths.obbr })
  if (on.has('uk')) await app.register(ukPublicRoutes, { prefix: profilePaths.uk })
}

/** Mounts each enabled profile's mTLS routes under its base path. */
export async function registerProtectedProfiles (app: App): Promise<void> {
  const on = new Set(app.services.config.ECOSYSTEM_PROFILES)
  if (on.has('obbr')) await app.register(obbrProtectedRoutes, { prefix: profilePaths.obbr })
  if (on.has('uk')) await app.register(ukProtectedRoutes, { prefix: profilePaths.uk })
}
