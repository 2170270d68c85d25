import { z } from 'zod'
import { uuid } from '../registry/schemas.js'
import { allEventTypes } from './types.js'

// The events API shapes (README "Events"); request schemas are strict.

export const eventTypeUri = z.enum(allEventTypes as [string, ...string[]])

export const subscriptionCreate = z.object({
  url: z.string().min(1).max(2048),
  events: z.array(eventTypeUri).min(1).max(allEventTypes.length)
    .refine((es) => new Set(es).size === es.length, 'each event type at most once'),
}).strict()

export const subscription = z.object({
  id: uuid,
  org_id: uuid,
  url: z.string(),
  events: z.array(z.string()),
  created_at: z.date(),
  pending: z.number().int(),
  failed: z.number().int(),
})

export const deliveryStatus = z.enum(['pending', 'delivered', 'failed'])

export const delivery = z.object({
  jti: uuid,
  seq: z.string(),
  type: z.string(),
  status: deliveryStatus,
  attempts: z.number().int(),
  created_at: z.date(),
  last_attempt_at: z.date().nullable(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  next_attempt_at: z.date().nullable(),
  delivered_at: z.date().nullable(),
})

export const deliveryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  status: deliveryStatus.optional(),
}).strict()

const cursor = z.string().regex(/^\d{1,19}$/, 'must be a cursor from an earlier answer')

export const feedQuery = z.object({
  cursor: cursor.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  // Comma-separated event type URIs; all types when absent.
  events: z.string().max(4096).optional()
    .transform((v) => v?.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(eventTypeUri).optional()),
}).strict()

export const feed = z.object({
  sets: z.array(z.string()),
  cursor: z.string(),
  more_available: z.boolean(),
})

export const subscriptionParams = z.object({ orgId: uuid, subscriptionId: uuid })
export const adminSubscriptionParams = z.object({ subscriptionId: uuid })

export type SubscriptionCreate = z.infer<typeof subscriptionCreate>
export type Subscription = z.infer<typeof subscription>
export type Delivery = z.infer<typeof delivery>
export type FeedQuery = z.infer<typeof feedQuery>
export type Feed = z.infer<typeof feed>
