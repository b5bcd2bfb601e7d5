// Gateway stats on <prefix>/gateways/<id>/stats (QoS 0, every gateway.statsEveryS): what the
// gateway measures plus what its publisher knows. /metrics is built from the same snapshot.
import { z } from 'zod';

const n = z.number().finite();
const counts = z.record(z.string(), n);
const quantiles = z.object({ p50: n, p95: n });
export type Quantiles = z.infer<typeof quantiles>;

/** Supplied by the gateway. Counters are totals since start; the rest are current values. */
export const gatewayStatsSchema = z.object({
  uptimeS: n,
  cameras: z.object({ assigned: n, online: n }),
  frames: z.object({
    decoded: n,
    analysed: n,
    /** Totals by reason, e.g. { slot: 12, budget: 3, motion: 800 }. */
    dropped: counts,
    /** Keyframes not decoded at all, by reason (node ingest: `still`, from the activity gate). */
    skipped: counts,
    /** Node ingest: GOPs decoded on activity onset, and onsets refused by the rate bound. */
    catchUp: z.object({ decoded: n, refused: n }).optional(),
  }),
  /** Detector time per analysed frame, over a recent window. */
  inferenceMs: quantiles,
  /** Capture time to broker acknowledgement of start events, over a recent window. */
  eventLatencyMs: quantiles,
  /** Process CPU, 100 = one core. */
  cpuPercent: n,
  rssMb: n,
});
export type GatewayStats = z.infer<typeof gatewayStatsSchema>;

export const dropReasons = ['overflow', 'rejected', 'invalid', 'shutdown'] as const;
export type DropReason = (typeof dropReasons)[number];

/** The publisher's outbox of face events (gateway/publish/outbox.ts). */
export const outboxStatsSchema = z.object({
  /** Acknowledged by the broker. */
  published: n,
  pending: n,
  inflight: n,
  waiting: n,
  dropped: n,
  droppedBy: z.record(z.enum(dropReasons), n),
  /** Age of the oldest pending item, 0 when none. */
  oldestPendingAgeMs: n,
  max: n,
});
export type OutboxStats = z.infer<typeof outboxStatsSchema>;

export const statsMessageSchema = gatewayStatsSchema.extend({
  v: z.literal(1),
  gatewayId: z.string().max(128),
  ts: z.string().max(64),
  events: outboxStatsSchema,
  mqtt: z.object({ connected: z.boolean(), protocol: z.union([z.literal(0), z.literal(4), z.literal(5)]) }),
});
export type StatsMessage = z.infer<typeof statsMessageSchema>;

/** Stats of a gateway that has measured nothing yet: for tests and for start-up. */
export function emptyGatewayStats(): GatewayStats {
  return {
    uptimeS: 0,
    cameras: { assigned: 0, online: 0 },
    frames: { decoded: 0, analysed: 0, dropped: {}, skipped: {} },
    inferenceMs: { p50: 0, p95: 0 },
    eventLatencyMs: { p50: 0, p95: 0 },
    cpuPercent: 0,
    rssMb: 0,
  };
}

/**
 * What a chart needs from one stats message. Lenient on purpose: a gateway of another version
 * (or with the other ingest) may lack a counter, which then reads as 0.
 */
const opt = n.optional();
export const statsViewSchema = z.object({
  ts: z.string().max(64).optional(),
  cameras: z.object({ assigned: opt, online: opt }),
  frames: z.object({
    decoded: opt,
    analysed: opt,
    dropped: z.record(z.string(), z.unknown()).optional(),
    skipped: z.object({ still: opt }).optional(),
    catchUp: z.object({ decoded: opt }).optional(),
  }),
  events: z.object({ published: opt, pending: opt }).optional(),
  cpuPercent: opt,
  rssMb: opt,
});
export type StatsView = z.infer<typeof statsViewSchema>;
