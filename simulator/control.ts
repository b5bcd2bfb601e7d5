// Control messages on <prefix>/simulator/set: parsed with a schema, never trusted.
import { z } from 'zod';
import type { Fault } from './rtsp/faults.ts';
import { oneLine } from '../shared/log.ts';

const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('stall') }),
  z.strictObject({ kind: z.literal('disconnect'), everyS: z.number().positive().max(3600).optional() }),
  z.strictObject({ kind: z.literal('corrupt'), probability: z.number().min(0).max(1).optional() }),
  z.strictObject({ kind: z.literal('wrongPassword') }),
  z.strictObject({
    kind: z.literal('flap'),
    upS: z.number().positive().max(3600).optional(),
    downS: z.number().positive().max(3600).optional(),
  }),
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
  fault: z.intersection(faultSchema, faultTarget).optional(),
  clearFaults: z.literal(true).optional(),
});

export type ControlMessage = z.infer<typeof controlSchema>;

export interface ControlTarget {
  setCount(n: number): void;
  setFault(cameraId: string, fault: Fault | undefined): void;
  setFaultFraction(fault: Fault, fraction: number, seed: number): void;
  clearFaults(): void;
}

/** Parses a payload; returns an error line instead of throwing. Max 64 KiB. */
export function parseControl(
  payload: Buffer,
): { ok: true; msg: ControlMessage } | { ok: false; error: string } {
  if (payload.length > 65_536)
    return { ok: false, error: `control message too large (${payload.length} bytes)` };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, error: 'control message is not JSON' };
  }
  const res = controlSchema.safeParse(json);
  if (res.success) {
    const f = res.data.fault;
    if (f && f.camera === undefined && f.fraction === undefined)
      return { ok: false, error: 'fault needs "camera" or "fraction"' };
    if (Object.keys(res.data).length === 0) return { ok: false, error: 'control message sets nothing' };
    return { ok: true, msg: res.data };
  }
  const issue = res.error.issues[0];
  const path = issue?.path.join('.') || '(root)';
  return { ok: false, error: oneLine(`control message: ${path}: ${issue?.message ?? 'invalid'}`) };
}

/** Applies a parsed control message; returns what it did, for the log. */
export function applyControl(msg: ControlMessage, target: ControlTarget): string[] {
  const done: string[] = [];
  if (msg.clearFaults) {
    target.clearFaults();
    done.push('cleared faults');
  }
  if (msg.cameras !== undefined) {
    target.setCount(msg.cameras);
    done.push(`cameras=${msg.cameras}`);
  }
  if (msg.fault) {
    const { camera, fraction, seed, ...rest } = msg.fault;
    const fault = rest.kind === 'none' ? undefined : (rest as Fault);
    if (camera !== undefined) {
      target.setFault(camera, fault);
      done.push(`fault ${rest.kind} on ${camera}`);
    } else if (fraction !== undefined) {
      if (fault) target.setFaultFraction(fault, fraction, seed ?? 1);
      else target.clearFaults();
      done.push(`fault ${rest.kind} on ${Math.round(fraction * 100)}% of cameras`);
    }
  }
  return done;
}
