// The gateway's stats document (published periodically, scraped by /metrics), assembled from
// what its parts count; split out of the gateway's assembly so the document's shape reads in one place.
import type { GatewayStats } from '../contract/stats.ts';
import { createCpuMeter } from '../shared/proc.ts';
import type { AnalyzerStats } from './analysis/scheduler.ts';
import type { SampleWindow } from './analysis/window.ts';
import type { FeedCounters } from './ingest-feed.ts';

/** What the stats need from the gateway's parts; each read lazily, as parts start one by one. */
export interface StatsSources {
  startedAt: number;
  /** Catch-up counts exist only for the rtsp ingest. */
  ingestKind: string;
  analysis(): AnalyzerStats;
  /** Event latency (broker ack minus event time), filled by the publisher. */
  latency: SampleWindow;
  /** Frames dropped because their camera was suspended (0 before privacy runs). */
  framesSuspended(): number;
  feed(): FeedCounters;
  cameras(): { assigned: number; online: number };
  /** Decoder process ids, for the CPU share. */
  pids(): number[];
}

export interface GatewayStatsSource {
  stats(): GatewayStats;
  /** Stops the CPU sampling timer. */
  close(): void;
}

export function createGatewayStats(src: StatsSources): GatewayStatsSource {
  const cpu = createCpuMeter();
  let cpuPercent = 0;
  const stats = (): GatewayStats => {
    const a = src.analysis().total;
    const inf = a.inferenceMs;
    const lat = src.latency.summary();
    const counters = src.feed();
    const dropped: Record<string, number> = {};
    for (const [k, v] of Object.entries(a.dropped)) if (v > 0) dropped[k] = v;
    // Frames of suspended cameras stop before analysis: counted with the other drops (stats, /metrics).
    const suspended = src.framesSuspended();
    if (suspended > 0) dropped['suspended'] = suspended;
    return {
      uptimeS: Math.round((Date.now() - src.startedAt) / 1000),
      cameras: src.cameras(),
      frames: {
        decoded: counters.decoded,
        analysed: a.analysed,
        dropped,
        skipped: { ...counters.skipped },
        ...(src.ingestKind === 'rtsp' ? { catchUp: { ...counters.catchUp } } : {}),
      },
      inferenceMs: { p50: inf.p50, p95: inf.p95 },
      eventLatencyMs: { p50: lat.p50, p95: lat.p95 },
      cpuPercent,
      rssMb: Math.round(process.memoryUsage.rss() / 1e5) / 10,
    };
  };
  const timer = setInterval(() => (cpuPercent = cpu([process.pid, ...src.pids()])), 2000);
  timer.unref();
  return { stats, close: () => clearInterval(timer) };
}
