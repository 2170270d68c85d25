import { SignJWT } from 'jose'
import type { SigningKeys } from '../keys/signing-keys.js'
import type { EventSubject } from './types.js'

/** An outbox row, as the SET is made from it. */
export interface StoredEvent { seq: bigint, id: string, type: string, subject: unknown, payload: unknown, createdAt: Date }

/** RFC 9493 subject identifier: the opaque format, the id of the thing that changed. */
export const subjectId = (s: EventSubject): { format: 'opaque', id: string } => ({ format: 'opaque', id: s.id })

/**
 * A Security Event Token (RFC 8417) for one event and one recipient, signed with the directory's
 * active key. jti is the event's id and iat its time, so every retry carries the same SET claims and a
 * receiver deduplicates by jti (RFC 8935 §2: at-least-once).
 */
export async function signSet (keys: SigningKeys, issuer: string, audience: string, e: StoredEvent): Promise<string> {
  const key = keys.current()
  const subject = e.subject as EventSubject
  return new SignJWT({
    events: { [e.type]: { subject_kind: subject.kind, ...(e.payload as object) } },
    sub_id: subjectId(subject),
    // The feed's and each subscription's order (a receiver may use it to spot a gap or an old event).
    seq: e.seq.toString(),
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'secevent+jwt' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setJti(e.id)
    .setIssuedAt(Math.floor(e.createdAt.getTime() / 1000))
    .sign(key.key)
}
