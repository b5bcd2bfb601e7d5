// A lightweight RTSP client for load: thousands of TCP-interleaved sessions from one process.
// It reads only the 16-byte prefix of each packet (interleaved header + RTP header) and skips the
// payload, counting packets, bytes, sequence gaps and how far arrival lags behind RTP time.
import { connect, type Socket } from 'node:net';
import type { Logger } from '../../shared/log.ts';
import { digestAuthorization, type Credentials } from './digest.ts';

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

interface Reader {
  socket: Socket;
  state: 'setup' | 'playing' | 'failed' | 'closed';
  packets: number;
  bytes: number;
  frames: number;
  seqGaps: number;
  lost: number;
  expectSeq: number;
  lastTs: number;
  extTs: number;
  minOffset: number;
  maxLag: number;
  sessionId: string;
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
      socket, state: 'setup', packets: 0, bytes: 0, frames: 0, seqGaps: 0, lost: 0,
      expectSeq: -1, lastTs: 0, extTs: 0, minOffset: Infinity, maxLag: 0, sessionId: '',
    };
    readers.push(r);
    return new Promise<void>((resolve) => {
      let cseq = 0;
      let challenge: string | undefined;
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
      const request = (method: string, uri: string, extra: string): void => {
        const auth = challenge && opts.credentials ? digestAuthorization(opts.credentials, challenge, method, uri) : undefined;
        const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${++cseq}`, 'User-Agent: facegate-load'];
        if (auth) lines.push(`Authorization: ${auth}`);
        if (r.sessionId) lines.push(`Session: ${r.sessionId}`);
        if (extra) lines.push(extra);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      };
      const next = (): void => {
        if (step === 'DESCRIBE') request('DESCRIBE', url, 'Accept: application/sdp');
        else if (step === 'SETUP') request('SETUP', trackUrl, 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1');
        else request('PLAY', sessionUrl, 'Range: npt=0.000-');
      };
      const onResponse = (status: number, headers: Map<string, string>, body: string): void => {
        if (r.state !== 'setup') return; // keep-alive answers
        if (status === 401 && !challenge && opts.credentials && headers.has('www-authenticate')) {
          challenge = headers.get('www-authenticate');
          next();
          return;
        }
        if (status !== 200) return fail(`${step} ${status}`);
        if (step === 'DESCRIBE') {
          // RFC 2326 C.1.1: the media's a=control, relative to Content-Base.
          const base = headers.get('content-base') ?? `${url}/`;
          const controls = [...body.matchAll(/^a=control:(\S+)/gm)].map((m) => m[1]!);
          const track = controls[controls.length - 1] ?? 'trackID=0';
          trackUrl = /^rtsps?:\/\//i.test(track) ? track : `${base.endsWith('/') ? base : `${base}/`}${track}`;
          sessionUrl = base.replace(/\/$/, '');
          step = 'SETUP';
        }
        else if (step === 'SETUP') {
          r.sessionId = headers.get('session')?.split(';')[0] ?? '';
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
      if (r.state === 'playing') r.socket.write(`GET_PARAMETER rtsp://${opts.host}:${opts.port}/ RTSP/1.0\r\nCSeq: ${1000 + ++ka}\r\nSession: ${r.sessionId}\r\n\r\n`);
    }
  }, keepAliveMs);
  keepAlive.unref();

  return {
    stats() {
      const s: LoadStats = {
        playing: 0, failed: 0, closed: 0, packets: 0, bytes: 0, frames: 0, seqGaps: 0, lostPackets: 0,
        lagMs: { p50: 0, p95: 0, max: 0 }, failures: { ...failures },
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
      await Promise.all(readers.map((r) => new Promise<void>((resolve) => {
        if (r.socket.destroyed) return resolve();
        r.socket.once('close', () => resolve());
        r.socket.destroy();
      })));
    },
  };
}

/** Parses the server's byte stream: RTSP responses and '$' frames, payloads skipped in place. */
function createStreamParser(r: Reader, onResponse: (status: number, headers: Map<string, string>, body: string) => void): (chunk: Buffer) => void {
  const hdr = Buffer.alloc(16);
  let hdrLen = 0;
  let need = 4;
  let skip = 0;
  let text: Buffer | undefined;
  const onRtp = (): void => {
    const len = hdr.readUInt16BE(2);
    r.packets++;
    r.bytes += len + 4;
    if (hdr[1] !== 0 || len < 12) return; // RTCP or junk: counted, not checked
    const seq = hdr.readUInt16BE(6);
    if (r.expectSeq >= 0 && seq !== r.expectSeq) {
      r.seqGaps++;
      r.lost += (seq - r.expectSeq) & 0xffff;
    }
    r.expectSeq = (seq + 1) & 0xffff;
    if ((hdr[5]! & 0x80) === 0) return;
    const ts = hdr.readUInt32BE(8);
    r.extTs = r.minOffset === Infinity ? 0 : r.extTs + ((ts - r.lastTs) | 0);
    r.lastTs = ts;
    r.frames++;
    const offset = Date.now() - r.extTs / 90;
    if (offset < r.minOffset) r.minOffset = offset;
    const lag = offset - r.minOffset;
    if (lag > r.maxLag) r.maxLag = lag;
  };
  const parse = (chunk: Buffer): void => {
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      if (text !== undefined || (hdrLen === 0 && chunk[i] !== 0x24)) {
        text = text ? Buffer.concat([text, chunk.subarray(i)]) : Buffer.from(chunk.subarray(i));
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          if (text.length > 65536) r.socket.destroy();
          return;
        }
        const lines = text.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map<string, string>();
        for (const l of lines.slice(1)) {
          const c = l.indexOf(':');
          if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
        }
        const bodyLen = Number(headers.get('content-length') ?? 0) || 0;
        if (text.length < end + 4 + bodyLen) return;
        const body = text.subarray(end + 4, end + 4 + bodyLen).toString('latin1');
        const rest = text.subarray(end + 4 + bodyLen);
        text = undefined;
        onResponse(Number(/^RTSP\/1\.\d (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0), headers, body);
        if (rest.length > 0) parse(rest);
        return;
      }
      const n = Math.min(need - hdrLen, chunk.length - i);
      chunk.copy(hdr, hdrLen, i, i + n);
      hdrLen += n;
      i += n;
      if (hdrLen === 4) need = 4 + Math.min(12, hdr.readUInt16BE(2));
      if (hdrLen < need) continue;
      onRtp();
      skip = hdr.readUInt16BE(2) - (need - 4);
      hdrLen = 0;
      need = 4;
    }
  };
  return parse;
}

/** Sends raw bytes on a fresh connection and collects what comes back until close or timeout. */
export function rawExchange(host: string, port: number, data: string | Buffer, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('connect', () => socket.write(data));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', done);
    socket.on('close', done);
  });
}
