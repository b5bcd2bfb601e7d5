// A lightweight RTSP client for load: thousands of TCP-interleaved sessions from one process.
// It reads only the 16-byte prefix of each packet (interleaved header + RTP header) and skips the
// payload, counting packets, bytes, sequence gaps and how far arrival lags behind RTP time.
import { connect } from 'node:net';
import type { Logger } from '../../shared/log.ts';
import { createDigestClient, type Credentials } from '../../rtsp/digest.ts';
import { formatTransport, parseSession } from '../../rtsp/headers.ts';
import { formatRequest, headerValues, type RtspResponse } from '../../rtsp/response.ts';
import { readSdp, resolveControl } from '../../rtsp/sdp.ts';
import { createStreamParser, type Reader } from './load-stream.ts';

export { rawExchange } from './load-stream.ts';

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

export async function startLoadReader(opts: LoadReaderOptions): Promise<LoadReader> {
  const readers: Reader[] = [];
  const failures: Record<string, number> = {};
  const keepAliveMs = (opts.keepAliveS ?? 20) * 1000;
  let closedAll = false;

  function open(i: number): Promise<void> {
    const url = `rtsp://${opts.host}:${opts.port}${opts.path(i)}`;
    const socket = connect({ host: opts.host, port: opts.port, noDelay: true });
    const r: Reader = {
      socket,
      state: 'setup',
      packets: 0,
      bytes: 0,
      frames: 0,
      seqGaps: 0,
      lost: 0,
      expectSeq: -1,
      lastTs: 0,
      extTs: 0,
      minOffset: Infinity,
      maxLag: 0,
      sessionId: '',
    };
    readers.push(r);
    return new Promise<void>((resolve) => {
      let cseq = 0;
      const digest = opts.credentials ? createDigestClient(opts.credentials) : undefined;
      let challenged = false;
      let step: 'DESCRIBE' | 'SETUP' | 'PLAY' = 'DESCRIBE';
      let trackUrl = `${url}/trackID=0`;
      let sessionUrl = url;
      const fail = (reason: string): void => {
        if (r.state !== 'setup') return;
        r.state = 'failed';
        failures[reason] = (failures[reason] ?? 0) + 1;
        socket.destroy();
        resolve();
      };
      const timer = setTimeout(() => fail('timeout'), opts.setupTimeoutMs ?? 10_000);
      const request = (method: string, uri: string, extra: [string, string] | undefined): void => {
        const headers: [string, string][] = [['User-Agent', 'facegate-load']];
        const auth = digest?.authorization(method, uri);
        if (auth) headers.push(['Authorization', auth]);
        if (r.sessionId) headers.push(['Session', r.sessionId]);
        if (extra) headers.push(extra);
        socket.write(formatRequest(method, uri, ++cseq, headers));
      };
      const next = (): void => {
        if (step === 'DESCRIBE') request('DESCRIBE', url, ['Accept', 'application/sdp']);
        else if (step === 'SETUP')
          request('SETUP', trackUrl, [
            'Transport',
            formatTransport({ protocol: 'RTP/AVP/TCP', unicast: true, interleaved: [0, 1] }),
          ]);
        else request('PLAY', sessionUrl, ['Range', 'npt=0.000-']);
      };
      const onResponse = (res: RtspResponse): void => {
        if (r.state !== 'setup') return; // keep-alive answers
        if (res.status === 401 && !challenged && digest?.challenge(headerValues(res, 'www-authenticate'))) {
          challenged = true;
          next();
          return;
        }
        if (res.status !== 200) {
          fail(`${step} ${res.status}`);
          return;
        }
        if (step === 'DESCRIBE') {
          // RFC 2326 C.1.1: the media's a=control, relative to Content-Base.
          const base = res.headers.get('content-base') ?? `${url}/`;
          const sdp = readSdp(res.body.toString('latin1'));
          trackUrl = resolveControl(sdp.video[0]?.control ?? 'trackID=0', base);
          sessionUrl = base.replace(/\/$/, '');
          step = 'SETUP';
        } else if (step === 'SETUP') {
          r.sessionId = parseSession(res.headers.get('session'))?.id ?? '';
          step = 'PLAY';
        } else {
          clearTimeout(timer);
          r.state = 'playing';
          resolve();
          return;
        }
        next();
      };
      socket.on('connect', next);
      socket.on('error', (err) => fail(`socket ${(err as NodeJS.ErrnoException).code ?? 'error'}`));
      socket.on('close', () => {
        clearTimeout(timer);
        fail('closed during setup');
        if (r.state === 'playing') r.state = 'closed';
      });
      socket.on('data', createStreamParser(r, onResponse));
    });
  }

  // Connect with bounded concurrency so the server's accept queue is not flooded.
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < opts.sessions && !closedAll) await open(nextIndex++);
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 64, opts.sessions) }, worker));

  let ka = 0;
  const keepAlive = setInterval(() => {
    for (const r of readers) {
      if (r.state === 'playing')
        r.socket.write(
          formatRequest('GET_PARAMETER', `rtsp://${opts.host}:${opts.port}/`, 1000 + ++ka, [
            ['Session', r.sessionId],
          ]),
        );
    }
  }, keepAliveMs);
  keepAlive.unref();

  return {
    stats() {
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
    },
    resetCounters() {
      for (const r of readers) {
        r.packets = r.bytes = r.frames = r.seqGaps = r.lost = r.maxLag = 0;
      }
    },
    async close() {
      closedAll = true;
      clearInterval(keepAlive);
      await Promise.all(
        readers.map(
          (r) =>
            new Promise<void>((resolve) => {
              if (r.socket.destroyed) return resolve();
              r.socket.once('close', () => resolve());
              r.socket.destroy();
            }),
        ),
      );
    },
  };
}
