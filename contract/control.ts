// Control messages on <prefix>/simulator/set (in): camera count and misbehaving cameras. Parsed
// with a schema, never trusted; the simulator applies them (simulator/control.ts).
import { z } from 'zod';
import { issueLine, parseJson } from './parse.ts';

const faultKinds = z.discriminatedUnion('kind', [
  /** The socket stays open, RTSP still answers, no more media. */
  z.strictObject({ kind: z.literal('stall') }),
  /** Sessions closed now, then every `everyS` seconds (default 10). */
  z.strictObject({ kind: z.literal('disconnect'), everyS: z.number().positive().max(3600).optional() }),
  /** Garbles bytes in a share of packets (default 0.05). */
  z.strictObject({ kind: z.literal('corrupt'), probability: z.number().min(0).max(1).optional() }),
  /** Always 401, even for the right password. */
  z.strictObject({ kind: z.literal('wrongPassword') }),
  /** Down for `downS`, then up for `upS`, repeating; starts down. */
  z.strictObject({
    kind: z.literal('flap'),
    upS: z.number().positive().max(3600).optional(),
    downS: z.number().positive().max(3600).optional(),
  }),
]);

/** A misbehaviour the simulator can put on a camera. */
export const faultSchema = faultKinds;
export type Fault = z.infer<typeof faultSchema>;

const faultOrNone = z.discriminatedUnion('kind', [
  ...faultKinds.options,
  z.strictObject({ kind: z.literal('none') }),
]);

const faultTarget = z.strictObject({
  /** One camera id, or... */
  camera: z
    .string()
    .regex(/^\d{6,}$/)
    .optional(),
  /** ...a seeded share of the fleet. */
  fraction: z.number().min(0).max(1).optional(),
  seed: z.number().int().min(0).optional(),
});

export const controlSchema = z.strictObject({
  cameras: z.number().int().min(1).max(100_000).optional(),
  fault: z.intersection(faultOrNone, faultTarget).optional(),
  clearFaults: z.literal(true).optional(),
});

export type ControlMessage = z.infer<typeof controlSchema>;

/** Parses a payload; returns an error line instead of throwing. Max 64 KiB. */
export function parseControl(
  payload: Buffer,
): { ok: true; msg: ControlMessage } | { ok: false; error: string } {
  if (payload.length > 65_536)
    return { ok: false, error: `control message too large (${payload.length} bytes)` };
  const json = parseJson(payload);
  if (!json.ok) return { ok: false, error: 'control message is not JSON' };
  const res = controlSchema.safeParse(json.data);
  if (!res.success) return { ok: false, error: issueLine('control message', res.error) };
  const f = res.data.fault;
  if (f && f.camera === undefined && f.fraction === undefined)
    return { ok: false, error: 'fault needs "camera" or "fraction"' };
  if (Object.keys(res.data).length === 0) return { ok: false, error: 'control message sets nothing' };
  return { ok: true, msg: res.data };
}

/** The faults a simulator reports in its status: per camera and per share of the fleet. */
export const activeFaultsSchema = z.object({
  cameras: z.record(z.string(), faultSchema),
  fractions: z.array(z.object({ fault: faultSchema, fraction: z.number(), seed: z.number() })),
});
