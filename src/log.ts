import type { FastifyServerOptions } from 'fastify'

// Credentials must never reach a log line: headers that carry them, and any body field that does.
export const redactPaths = [
  ...['req.headers', 'headers'].flatMap((h) => [`${h}.authorization`, `${h}.cookie`, `${h}["client-cert"]`]),
  '*.client_assertion',
  '*.code',
  '*.access_token',
  '*.privateKey',
  '*.key',
  '*.masterKey',
]

export function loggerOptions (level: string, stream?: { write: (line: string) => void }): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    ...(stream ? { stream } : {}),
  }
}
