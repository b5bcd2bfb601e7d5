// Privacy topics: suspend/resume commands (<prefix>/privacy/set, in), the retained audit record
// of each camera's state (<prefix>/privacy/<camera>/state), and the console's live view audit
// (<prefix>/audit/liveview).
import { z } from 'zod';
import { badId } from './ids.ts';

const text = z.string().min(1).max(200);

export const privacyCommandSchema = z
  .strictObject({
    v: z.literal(1).optional(),
    camera: z
      .string()
      .refine((s) => badId(s) === undefined, 'not a valid camera id')
      .optional(),
    district: z.string().min(1).max(64).optional(),
    all: z.literal(true).optional(),
    state: z.enum(['suspended', 'active', 'schedule']),
    reason: text.optional(),
    clientId: z.string().min(1).max(128).optional(),
  })
  .refine((c) => [c.camera, c.district, c.all].filter((x) => x !== undefined).length === 1, {
    message: 'name exactly one of camera, district or all',
  });
export type PrivacyCommandPayload = z.infer<typeof privacyCommandSchema>;

export const privacyStates = ['suspended', 'active'] as const;
export type PrivacyState = (typeof privacyStates)[number];

/** The retained audit record of one camera, one per change of its state. */
export const privacyRecordSchema = z.object({
  v: z.literal(1),
  camera: z.string(),
  state: z.enum(privacyStates),
  /** ISO time the state began. */
  since: z.iso.datetime(),
  by: z.enum(['schedule', 'command']),
  /** True while a command holds the state; false when the schedule decides (a new owner needs to know). */
  pinned: z.boolean(),
  /** Who sent the command: an MQTT 5 user property `clientId`, else the payload's field. */
  clientId: z.string().max(128).optional(),
  reason: z.string().max(200).optional(),
  gatewayId: z.string(),
});
export type PrivacyRecord = z.infer<typeof privacyRecordSchema>;

/** One as a live view starts (`until` null) and one as it stops. */
export const liveViewAuditSchema = z.object({
  v: z.literal(1),
  who: z.string(),
  camera: z.string(),
  from: z.string(),
  until: z.string().nullable(),
  address: z.string(),
});
export type LiveViewAudit = z.infer<typeof liveViewAuditSchema>;
