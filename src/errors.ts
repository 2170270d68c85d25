// The one catalogue of errors. Services throw these; the error plugin renders them as RFC 9457
// problem+json, and the token endpoint renders OAuthError as RFC 6749 §5.2 JSON.

export interface FieldError { path: string, message: string }

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  errors?: FieldError[]
  [extension: string]: unknown
}

const typeBase = 'urn:ecosystem-directory:problem:'

export class Problem extends Error {
  readonly type: string
  constructor (
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: { errors?: FieldError[], [k: string]: unknown } = {},
  ) {
    super(detail ?? title)
    this.name = 'Problem'
    this.type = typeBase + code
  }

  toJSON (): ProblemBody {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      ...this.extensions,
    }
  }
}

export const BadRequest = (detail: string, errors?: FieldError[]): Problem =>
  new Problem(400, 'bad-request', 'Bad Request', detail, errors ? { errors } : {})
export const ValidationFailed = (errors: FieldError[], detail = 'The request does not match the schema'): Problem =>
  new Problem(400, 'validation', 'Validation Failed', detail, { errors })
export const MalformedJson = (detail: string): Problem => new Problem(400, 'malformed-json', 'Malformed JSON', detail)
export const InvalidCsr = (detail: string): Problem => new Problem(400, 'invalid-csr', 'Invalid CSR', detail)
export const Unauthorized = (detail: string): Problem => new Problem(401, 'unauthorized', 'Unauthorized', detail)
export const Forbidden = (detail: string): Problem => new Problem(403, 'forbidden', 'Forbidden', detail)
export const NotFound = (detail = 'No such resource'): Problem => new Problem(404, 'not-found', 'Not Found', detail)
export const MethodNotAllowed = (detail: string): Problem => new Problem(405, 'method-not-allowed', 'Method Not Allowed', detail)
export const Conflict = (detail: string, extensions: Record<string, unknown> = {}): Problem =>
  new Problem(409, 'conflict', 'Conflict', detail, extensions)
export const InvalidTransition = (entity: string, from: string, to: string): Problem =>
  new Problem(409, 'invalid-transition', 'Invalid Status Transition',
    `${entity} cannot change status from ${from} to ${to}`, { current_status: from, requested_status: to })
export const PayloadTooLarge = (limit: number): Problem =>
  new Problem(413, 'payload-too-large', 'Payload Too Large', `The request body exceeds ${limit} bytes`)
export const UnsupportedMediaType = (detail: string): Problem =>
  new Problem(415, 'unsupported-media-type', 'Unsupported Media Type', detail)
export const Internal = (): Problem =>
  new Problem(500, 'internal', 'Internal Server Error', 'An unexpected error occurred; it has been logged with the request id')
export const Unavailable = (detail: string): Problem => new Problem(503, 'unavailable', 'Service Unavailable', detail)
/** A dependency (the database) is away: retry after `retryAfter` seconds; nothing was changed. */
export const DependencyUnavailable = (detail = 'the database is unavailable; nothing was changed, retry later'): Problem =>
  new Problem(503, 'unavailable', 'Service Unavailable', detail)
/** A write lost a race on a unique constraint: another request stored the same value first. */
export const UniqueConflict = (fields: string[]): Problem =>
  new Problem(409, 'conflict', 'Conflict', fields.length
    ? `another record with the same ${fields.join(' and ')} exists already`
    : 'another record with the same unique value exists already', { fields })
export const TooManyRequests = (detail: string): Problem => new Problem(429, 'rate-limited', 'Too Many Requests', detail)
export const UriTooLong = (detail: string): Problem => new Problem(414, 'uri-too-long', 'URI Too Long', detail)
export const HeadersTooLarge = (): Problem =>
  new Problem(431, 'headers-too-large', 'Request Header Fields Too Large', 'The request headers exceed the server\'s limit')

/** RFC 6749 §5.2 error codes, as the token endpoint answers them. */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client'
  | 'unsupported_grant_type' | 'invalid_scope' | 'server_error' | 'temporarily_unavailable'

export class OAuthError extends Error {
  constructor (readonly error: OAuthErrorCode, readonly description: string, readonly status = statusOf(error)) {
    super(description)
    this.name = 'OAuthError'
  }

  toJSON (): { error: OAuthErrorCode, error_description: string } {
    return { error: this.error, error_description: this.description }
  }
}

function statusOf (code: OAuthErrorCode): number {
  if (code === 'invalid_client') return 401
  if (code === 'server_error') return 500
  if (code === 'temporarily_unavailable') return 503
  return 400
}

/** A problem rendered for the token endpoint (RFC 6749 §5.2), keeping its HTTP status. */
export function oauthErrorOf (problem: Problem): OAuthError {
  const s = problem.status
  const code: OAuthErrorCode = s === 503 || s === 429 ? 'temporarily_unavailable' : s >= 500 ? 'server_error' : 'invalid_request'
  return new OAuthError(code, problem.detail ?? problem.title, s)
}
