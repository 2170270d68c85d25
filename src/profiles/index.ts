import type { App } from '../app.js'
import { profilePaths } from './common.js'
import { obbrProtectedRoutes, obbrPublicRoutes } from './obbr/routes.js'
import type { ObbrProfile } from './obbr/service.js'

/** The enabled ecosystem profiles' services (undefined when a profile is off). */
export interface Profiles {
  obbr?: ObbrProfile
}

/** Mounts each enabled profile's public routes under its base path. */
export async function registerPublicProfiles (app: App): Promise<void> {
  const on = new Set(app.services.config.ECOSYSTEM_PROFILES)
  if (on.has('obbr')) await app.register(obbrPublicRoutes, { prefix: profilePaths.obbr })
}

/** Mounts each enabled profile's mTLS routes under its base path. */
export async function registerProtectedProfiles (app: App): Promise<void> {
  const on = new Set(app.services.config.ECOSYSTEM_PROFILES)
  if (on.has('obbr')) await app.register(obbrProtectedRoutes, { prefix: profilePaths.obbr })
}
