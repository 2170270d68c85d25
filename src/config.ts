import { availableParallelism } from 'node:os'
import { z } from 'zod'

const port = z.coerce.number().int().min(0).max(65535)
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')
const seconds = z.coerce.number().int().positive()
const millis = z.coerce.number().int().min(100).max(600_000)
const base64Key = z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
const csv = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))

// Every setting the service reads, with the defaults of the embedded mode (PGlite under ./data).
// Names are the environment variables; see README "Configuration".
export const environmentSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_PORT: port.default(8080),
  MTLS_PORT: port.default(8443),
  DIRECTORY_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  MTLS_BASE_URL: z.url({ protocol: /^https$/ }).optional(),
  DIRECTORY_MASTER_KEY: base64Key.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT: z.coerce.number().int().min(1024).default(1024 * 1024),
  // Bounds on every database call (PostgreSQL; transactions on PGlite too), so a frozen or unreachable
  // database turns into a 503 within seconds instead of a request that hangs. See README "Configuration".
  DB_CONNECT_TIMEOUT_MS: millis.default(3000),
  DB_STATEMENT_TIMEOUT_MS: millis.default(5000),
  DB_TRANSACTION_MAX_WAIT_MS: millis.default(3000),
  DB_TRANSACTION_TIMEOUT_MS: millis.default(5000),
  READY_TIMEOUT_MS: millis.default(1000),
  CACHE_MAX_AGE: seconds.default(60),
  CERT_VALIDITY_DAYS: z.coerce.number().int().min(1).max(825).default(397),
  CRL_VALIDITY_SECONDS: seconds.default(24 * 3600),
  TLS_SERVER_NAMES: csv.default(['localhost', '127.0.0.1']),
  CA_ROOT_KEY: z.enum(['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096']).default('ec-p384'),
  CA_ISSUING_KEY: z.enum(['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096']).default('ec-p256'),
  // The mTLS listener's key(s): one type, or an RSA and an EC type side by side (TLS picks by the client's suites).
  TLS_SERVER_KEY: csv.pipe(z.array(z.enum(['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'])).min(1).max(2)
    .refine((ks) => ks.length === 1 || ks[0]!.slice(0, 2) !== ks[1]!.slice(0, 2), 'at most one RSA and one EC key type'))
    .default(['ec-p256']),
  // An imported CA whose root key stays with its owner: where that owner publishes the root's CRL (/pki/root.crl
  // redirects there).
  CA_ROOT_CRL_URL: z.url({ protocol: /^https?$/ }).optional(),
  SIGNING_ALG: z.enum(['PS256', 'ES256']).default('PS256'),
  KEY_OVERLAP_SECONDS: seconds.default(24 * 3600),
  ACCESS_TOKEN_TTL: seconds.default(300),
  SSA_TTL: seconds.default(600),
  ENROLMENT_CODE_TTL: seconds.default(24 * 3600),
  TRUSTED_PROXY_CLIENT_CERT: bool.default(false),
  TRUSTED_PROXIES: csv.default([]),
  ROLES: z.string().optional(),
  // Ecosystem wire formats served beside the native API (src/profiles/): native always, plus any of these.
  ECOSYSTEM_PROFILES: csv.pipe(z.array(z.enum(['native', 'obbr', 'uk', 'cdr']))).default(['native']),
  // The SSA `iss` of each profile (OBBR: e.g. "Open Banking Open Banking Brasil prod SSA issuer"; UK: "OpenBanking Ltd").
  OBBR_SSA_ISSUER: z.string().min(1).max(255).optional(),
  UK_SSA_ISSUER: z.string().min(1).max(255).optional(),
  // The authorisation domain shown for a role that no authority claim places in one (OBBR "Open Banking").
  DEFAULT_AUTHORISATION_DOMAIN: z.string().min(1).max(30).default('Open Banking'),
  // Which ecosystem's subject attributes the CA writes into participant certificates (src/pki/subject-profiles.ts).
  CERTIFICATE_PROFILE: z.enum(['native', 'obbr', 'uk', 'cdr']).default('native'),
  // The web portal (src/portal) on the public listener under /portal/.
  PORTAL_ENABLED: bool.default(true),
  PORTAL_SESSION_IDLE_SECONDS: seconds.default(30 * 60),
  PORTAL_SESSION_LIFETIME_SECONDS: seconds.default(12 * 3600),
  PORTAL_SETUP_LINK_TTL: seconds.default(24 * 3600),
  // The first operator-admin, made by init, who gets the first setup link.
  PORTAL_OPERATOR_EMAIL: z.email().default('operator@example.org'),
  // Requests per RATE_LIMIT_WINDOW_SECONDS: /token per client certificate, /enrol and OCSP per address (0 = off).
  RATE_LIMIT_WINDOW_SECONDS: seconds.default(60),
  RATE_LIMIT_TOKEN: z.coerce.number().int().min(0).default(600),
  RATE_LIMIT_ENROL: z.coerce.number().int().min(0).default(30),
  RATE_LIMIT_OCSP: z.coerce.number().int().min(0).default(1200),
  PORTAL_LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).default(20),
  WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(256)]).default(1),
  // Push delivery of events (RFC 8935); see README "Events".
  EVENTS_ALLOW_PRIVATE_TARGETS: bool.default(false),
  EVENTS_RETRY_SECONDS: seconds.default(24 * 3600),
  EVENTS_BACKOFF_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
  EVENTS_BACKOFF_MAX_SECONDS: seconds.default(3600),
  EVENTS_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  EVENTS_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  EVENTS_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
})

export type Environment = z.infer<typeof environmentSchema>

export type EcosystemProfile = 'obbr' | 'uk' | 'cdr'

export interface Config extends Omit<Environment, 'DIRECTORY_ISSUER' | 'MTLS_BASE_URL' | 'ROLES' | 'ECOSYSTEM_PROFILES' | 'OBBR_SSA_ISSUER' | 'UK_SSA_ISSUER' | 'WORKERS'> {
  DIRECTORY_ISSUER: string
  MTLS_BASE_URL: string
  /** The ecosystem profiles mounted beside the native API (native itself is always on). */
  ECOSYSTEM_PROFILES: EcosystemProfile[]
  OBBR_SSA_ISSUER: string
  UK_SSA_ISSUER: string
  /** Role code → the OAuth scopes an SSA for that role may carry. */
  ROLES: Record<string, string[]>
  /** Server processes (node:cluster workers) sharing the listeners; always 1 on PGlite. */
  WORKERS: number
}

export const defaultRoles: Record<string, string[]> = {
  'data-holder': ['openid', 'accounts'],
  'data-recipient': ['openid', 'accounts', 'consents'],
  'payment-initiator': ['openid', 'payments', 'consents'],
}

const rolesSchema = z.record(z.string().regex(/^[a-z][a-z0-9-]{1,63}$/), z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)))

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Validates the environment; throws ConfigError with one line per bad variable. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = environmentSchema.safeParse(present)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`)
  }
  const e = parsed.data
  let roles = defaultRoles
  if (e.ROLES !== undefined) {
    let json: unknown
    try { json = JSON.parse(e.ROLES) } catch { throw new ConfigError('invalid configuration: ROLES: must be JSON {"role": ["scope", ...]}') }
    const r = rolesSchema.safeParse(json)
    if (!r.success) throw new ConfigError(`invalid configuration: ROLES: ${r.error.issues[0]?.message ?? 'invalid'}`)
    roles = r.data
  }
  // PGlite is one embedded database in one process: several workers need PostgreSQL.
  if (e.WORKERS !== 'auto' && e.WORKERS > 1 && !e.DATABASE_URL) {
    throw new ConfigError('invalid configuration: WORKERS: more than one worker needs PostgreSQL (DATABASE_URL); PGlite runs in one process')
  }
  const workers = e.WORKERS === 'auto' ? (e.DATABASE_URL ? availableParallelism() : 1) : e.WORKERS
  const strip = (u: string): string => u.replace(/\/+$/, '')
  const issuer = strip(e.DIRECTORY_ISSUER ?? `http://localhost:${e.PUBLIC_PORT}`)
  return {
    ...e,
    ECOSYSTEM_PROFILES: [...new Set(e.ECOSYSTEM_PROFILES.filter((p): p is EcosystemProfile => p !== 'native'))],
    OBBR_SSA_ISSUER: e.OBBR_SSA_ISSUER ?? issuer,
    UK_SSA_ISSUER: e.UK_SSA_ISSUER ?? issuer,
    DIRECTORY_ISSUER: issuer,
    MTLS_BASE_URL: strip(e.MTLS_BASE_URL ?? `https://localhost:${e.MTLS_PORT}`),
    ROLES: roles,
    WORKERS: workers,
  }
}
