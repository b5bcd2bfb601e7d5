// Retained statuses: a camera's and a gateway's (<prefix>/cameras/<id>/status,
// <prefix>/gateways/<id>/status), and the simulator's or a shard's (<prefix>/simulator/status).
import { z } from 'zod';
import { activeFaultsSchema } from './control.ts';
import { redactUrl } from '../shared/text.ts';

export const cameraStatuses = ['online', 'offline', 'unauthorized', 'unreachable'] as const;
export const gatewayStatuses = ['online', 'offline'] as const;
export type CameraStatus = (typeof cameraStatuses)[number];
export type GatewayStatus = (typeof gatewayStatuses)[number];

/**
 * Payload of both status topics. JSON rather than a bare word so a reader learns which gateway
 * said it and since when, and can ignore a camera status whose gateway is itself offline.
 */
const statusBase = {
  v: z.literal(1),
  gatewayId: z.string().max(128),
  /** ISO time the status began (for a last will: when the session that left it started). */
  ts: z.string().max(64),
  /** Often ffmpeg's error line, credentials removed. */
  detail: z.string().optional(),
};
export const cameraStatusSchema = z.object({ ...statusBase, status: z.enum(cameraStatuses) });
export const gatewayStatusSchema = z.object({ ...statusBase, status: z.enum(gatewayStatuses) });
export type CameraStatusPayload = z.infer<typeof cameraStatusSchema>;
export type GatewayStatusPayload = z.infer<typeof gatewayStatusSchema>;

/** The JSON of a camera or gateway status. */
export function statusPayload<S extends CameraStatus>(
  status: S,
  gatewayId: string,
  ts: Date | string,
  detail?: string,
): string {
  const body: CameraStatusPayload = {
    v: 1,
    status,
    gatewayId,
    ts: typeof ts === 'string' ? ts : ts.toISOString(),
  };
  // The detail is often ffmpeg's error line, which starts with the camera URL as given, password included.
  if (detail !== undefined && detail !== '') body.detail = redactUrl(detail);
  return JSON.stringify(body);
}

const count = z.number().int().min(0);

/** The simulator's (or a shard's) retained status; `offline` (last will) carries no counters. */
export const simulatorStatusSchema = z.object({
  v: z.literal(1),
  status: z.enum(['online', 'offline']),
  ts: z.string().max(64),
  /** Shards only: the shard id, its label (`2 of 8`), fixed or auto. */
  shard: z.string().max(128).optional(),
  shardOf: z.string().max(128).optional(),
  mode: z.enum(['fixed', 'auto']).optional(),
  /** Cameras this process serves, and in the whole city. */
  cameras: count.optional(),
  cityCameras: count.optional(),
  rtspPort: z.number().int().min(0).max(65_535).optional(),
  sessions: count.optional(),
  playing: count.optional(),
  framesSent: count.optional(),
  framesDropped: count.optional(),
  /** Bytes of video held in memory. */
  clipBytes: count.optional(),
  /** Faults set by control messages. */
  faults: activeFaultsSchema.optional(),
});
export type SimulatorStatus = z.infer<typeof simulatorStatusSchema>;
