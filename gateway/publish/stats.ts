// The stats document: what the gateway measures (GatewayStats, from its getStats() callback) plus
// what the publisher knows (events, MQTT link). Published on <prefix>/gateways/<id>/stats and
// scraped as Prometheus metrics from the same snapshot, so both always agree.
import type { OutboxStats } from './outbox.ts';

export interface Quantiles {
  p50: number;
  p95: number;
}

/** Supplied by the gateway. Counters are totals since start; the rest are current values. */
export interface GatewayStats {
  uptimeS: number;
  cameras: { assigned: number; online: number };
  frames: {
    decoded: number;
    analysed: number;
    /** Totals by reason, e.g. { slot: 12, budget: 3, motion: 800 }. */
    dropped: Record<string, number>;
    /** Keyframes not decoded at all, by reason (node ingest: `still`, from the activity gate). */
    skipped: Record<string, number>;
    /** Node ingest: GOPs decoded on activity onset, and onsets refused by the rate bound. */
    catchUp?: { decoded: number; refused: number };
  };
  /** Detector time per analysed frame, over a recent window. */
  inferenceMs: Quantiles;
  /** Capture time to broker acknowledgement of start events, over a recent window. */
  eventLatencyMs: Quantiles;
  /** Process CPU, 100 = one core. */
  cpuPercent: number;
  rssMb: number;
}

export interface StatsMessage extends GatewayStats {
  v: 1;
  gatewayId: string;
  ts: string;
  events: OutboxStats;
  mqtt: { connected: boolean; protocol: 0 | 4 | 5 };
}

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
