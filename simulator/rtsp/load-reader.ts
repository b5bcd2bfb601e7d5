// Load: thousands of TCP-interleaved sessions from one process, each an rtsp/client.ts that keeps
// only the 12-byte RTP header of each packet and skips the payload, counting packets, bytes,
// sequence gaps and how far arrival lags behind RTP time (load-counts.ts).
import type { Logger } from '../../shared/log.ts';
import { startClient, type Client } from '../../rtsp/client.ts';
import type { Credentials } from '../../rtsp/digest.ts';
import { RTP_HEADER_BYTES } from '../../rtsp/rtp.ts';
import { countPacket, newCounts, type SessionCounts } from './load-counts.ts';

export { rawExchange } from './load-counts.ts';

export interface LoadReaderOptions {
  host: string;
  port: number;
  /** Path of session i, e.g. i => `/cam/${String(i + 1).padStart(6, '0')}`. */
  path: (i: number) => string;
  sessions: number;
  /** Sessions being set up at once (default 64). */
  concurrency?: number;
  credentials?: Credentials;
  /** GET_PARAMETER keep-alive period (default 20 s). */
  keepAliveS?: number;
  /** Per-session limit for DESCRIBE..PLAY (default 10 s). */
  setupTimeoutMs?: number;
  log?: Logger;
}

export interface LoadStats {
  playing: number;
  failed: number;
  /** Sessions whose connection ended after PLAY. */
  closed: number;
  packets: number;
  bytes: number;
  frames: number;
  seqGaps: number;
  lostPackets: number;
  /** Arrival delay of frames beyond each session's best, over sessions' worst (ms). */
  lagMs: { p50: number; p95: number; max: number };
  failures: Record<string, number>;
}

export interface LoadReader {
  stats(): LoadStats;
  /** Zeroes packet, byte, gap and lag counters (e.g. after a warm-up). */
  resetCounters(): void;
  close(): Promise<void>;
}

const percentile = (xs: number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

/** Failure keys as the setup step and status, e.g. `DESCRIBE 404`, `DESCRIBE 401`, `timeout`. */
function failureKey(detail: string): string {
  if (detail.startsWith('setup timed out')) return 'timeout';
  if (detail.startsWith('connection closed')) return 'closed during setup';
  return detail.replace(/ \(no credentials\)$/, '');
}

function summarize(readers: readonly SessionCounts[], failures: Record<string, number>): LoadStats {
  const s: LoadStats = {
    playing: 0,
    failed: 0,
    closed: 0,
    packets: 0,
    bytes: 0,
    frames: 0,
    seqGaps: 0,
    lostPackets: 0,
    lagMs: { p50: 0, p95: 0, max: 0 },
    failures: { ...failures },
  };
  const lags: number[] = [];
  for (const r of readers) {
    if (r.state === 'playing') s.playing++;
    else if (r.state === 'failed') s.failed++;
    else if (r.state === 'closed') s.closed++;
    s.packets += r.packets;
    s.bytes += r.bytes;
    s.frames += r.frames;
    s.seqGaps += r.seqGaps;
    s.lostPackets += r.lost;
    if (r.frames > 0) lags.push(r.maxLag);
  }
  s.lagMs = { p50: percentile(lags, 0.5), p95: percentile(lags, 0.95), max: percentile(lags, 1) };
  return s;
}

export async function startLoadReader(opts: LoadReaderOptions): Promise<LoadReader> {
  const readers: SessionCounts[] = [];
  const clients: Client[] = [];
  const failures: Record<string, number> = {};
  let closedAll = false;

  function open(i: number): Promise<void> {
    const r = newCounts();
    readers.push(r);
    return new Promise<void>((resolve) => {
      const client = startClient(
        {
          url: `rtsp://${opts.host}:${opts.port}${opts.path(i)}`,
          userAgent: 'facegate-load',
          sendOptions: false,
          keepFrameBytes: RTP_HEADER_BYTES,
          mediaTimeoutMs: 0,
          keepAliveMs: (opts.keepAliveS ?? 20) * 1000,
          setupTimeoutMs: opts.setupTimeoutMs ?? 10_000,
          ...(opts.credentials ? { credentials: opts.credentials } : {}),
        },
        {
          onPlaying: () => {
            r.state = 'playing';
            resolve();
          },
          onFrame: (f) => countPacket(r, f.channel, f.length, f.data),
          onClose: (_kind, detail) => {
            if (r.state === 'playing') r.state = 'closed';
            else if (r.state === 'setup') {
              r.state = 'failed';
              const key = failureKey(detail);
              failures[key] = (failures[key] ?? 0) + 1;
            }
            resolve();
          },
        },
      );
      clients.push(client);
    });
  }

  // Connect with bounded concurrency so the server's accept queue is not flooded.
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < opts.sessions && !closedAll) await open(nextIndex++);
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 64, opts.sessions) }, worker));

  return {
    stats: () => summarize(readers, failures),
    resetCounters() {
      for (const r of readers) {
        r.packets = r.bytes = r.frames = r.seqGaps = r.lost = r.maxLag = 0;
      }
    },
    async close() {
      closedAll = true;
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}
