// Face events on <prefix>/cameras/<id>/faces: one appearance is a `start`, optional `update`s and
// an `end`, all with the same eventId (gateway/tracker.ts makes them).
import { z } from 'zod';

export const faceEventTypes = ['start', 'update', 'end'] as const;
export type FaceEventType = (typeof faceEventTypes)[number];
export const endReasons = ['unseen', 'left', 'offline', 'removed', 'suspended', 'closed'] as const;
export type EndReason = (typeof endReasons)[number];

const finite = z.number().finite();

export const faceEventSchema = z.object({
  v: z.literal(1),
  type: z.enum(faceEventTypes),
  eventId: z.string().min(1).max(128),
  trackId: z.number().int(),
  cameraId: z.string().min(1).max(128),
  gatewayId: z.string().max(128),
  /** ISO capture time of the frame the event describes; for `end`, when the face was last seen. */
  ts: z.string().max(64),
  /** x, y, width, height as fractions of the frame. */
  box: z.tuple([finite, finite, finite, finite]),
  /** Latest score; for `end`, the best of the appearance. */
  score: finite,
  frame: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
  startedTs: z.string().max(64).optional(),
  durationS: finite.optional(),
  hits: z.number().int().optional(),
  endReason: z.enum(endReasons).optional(),
  /** Opt-in (gateway.crops), start events only: the face as a small JPEG, base64. */
  crop: z.string().optional(),
  /** With a crop: when consumers must delete it (the event's time plus mqtt.messageExpiryS). */
  retainUntil: z.string().max(64).optional(),
});

export type FaceEvent = z.infer<typeof faceEventSchema>;
