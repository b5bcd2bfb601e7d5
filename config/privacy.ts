// The privacy section of the configuration: masks applied to pixels before any analysis, and
// windows in which detection is off. Kept apart from schema.ts so the rules live in one place;
// the polygon schema lives in contract/masks.ts, since the simulator catalog's `masks` use it too.
import { z } from 'zod';
import { cameraMasksSchema, polygonArea2, polygonSchema, type Polygon } from '../contract/masks.ts';

export { cameraMasksSchema, polygonArea2, polygonSchema, type Polygon };

const maskEntry = z.strictObject({
  camera: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1 to 64)'),
  polygons: cameraMasksSchema.min(1),
});

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM from 00:00 to 24:00');

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const suspendEntry = z.strictObject({
  cameras: z.array(z.string().min(1).max(64)).default([]),
  districts: z.array(z.string().min(1).max(64)).default([]),
  days: z
    .array(z.enum(weekdays))
    .min(1)
    .default([...weekdays]),
  from: hhmm.default('00:00'),
  to: hhmm.default('24:00'),
  timeZone: z.string().default('UTC').refine(validTimeZone, 'an IANA time zone such as Europe/Berlin'),
  reason: z.string().max(200).default(''),
});

export type SuspendRule = z.infer<typeof suspendEntry>;
export type MaskEntry = z.infer<typeof maskEntry>;

export const privacySchema = z.strictObject({
  masks: z
    .array(maskEntry)
    .default([])
    .describe(
      'blanked before motion and detection, and in live views: [{"camera":"000001","polygons":[[[0,0],[0.5,0],[0.5,1],[0,1]]]}], x and y in 0..1',
    ),
  suspend: z
    .array(suspendEntry)
    .default([])
    .describe(
      'detection off by schedule: [{"cameras":[],"districts":["arbat"],"days":["sat","sun"],"from":"22:00","to":"06:00","timeZone":"Europe/Moscow","reason":"night"}] (no cameras and no districts: all)',
    ),
  control: z.boolean().default(true).describe('accept <prefix>/privacy/set suspend and resume commands'),
  checkEveryS: z
    .number()
    .positive()
    .max(3600)
    .default(15)
    .describe('how often suspend schedules are evaluated'),
});

export type PrivacyConfig = z.infer<typeof privacySchema>;
