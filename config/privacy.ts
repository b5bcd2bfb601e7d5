// The privacy section of the configuration: masks applied to pixels before any analysis, and
// windows in which detection is off. Kept apart from schema.ts so the rules live in one place;
// the simulator catalog's optional `masks` field uses the same polygon schema.
import { z } from 'zod';

const unit = z.number().min(0).max(1);

/** Twice the signed area of a polygon (shoelace); 0 for a degenerate one. */
export function polygonArea2(points: readonly (readonly [number, number])[]): number {
  let a = 0;
  for (let i = 0; i < points.length; i++) {
    const [x0, y0] = points[i]!;
    const [x1, y1] = points[(i + 1) % points.length]!;
    a += x0 * y1 - x1 * y0;
  }
  return a;
}

/** A polygon in normalised frame coordinates: [x, y] pairs in 0..1, top-left origin. */
export const polygonSchema = z
  .array(z.tuple([unit, unit]))
  .min(3, 'a polygon needs at least 3 points')
  .max(64, 'a polygon has at most 64 points')
  .refine((p) => Math.abs(polygonArea2(p)) > 1e-9, 'a polygon must enclose an area');

export type Polygon = z.infer<typeof polygonSchema>;

export const cameraMasksSchema = z.array(polygonSchema).max(16, 'at most 16 polygons per camera');

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
