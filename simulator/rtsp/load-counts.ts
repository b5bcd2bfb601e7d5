// What the load reader counts per session from each packet's 12-byte RTP header (rtsp/client.ts
// keeps only that and skips the payload in place): packets, bytes, sequence gaps and how far
// arrival lags behind RTP time. And a raw exchange for tests that speak RTSP by hand.
import { connect } from 'node:net';
import { RTP_CLOCK, RTP_HEADER_BYTES } from '../../rtsp/rtp.ts';

/** One session's counters; `state` follows the client. */
export interface SessionCounts {
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
}

export const newCounts = (): SessionCounts => ({
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
});

/** Counts one interleaved frame from its kept head (the RTP header): bytes, gaps, lag at each marker. */
export function countPacket(r: SessionCounts, channel: number, length: number, head: Buffer): void {
  r.packets++;
  r.bytes += length + 4;
  if (channel !== 0 || length < RTP_HEADER_BYTES || head.length < RTP_HEADER_BYTES) return; // RTCP or junk
  const seq = head.readUInt16BE(2);
  if (r.expectSeq >= 0 && seq !== r.expectSeq) {
    r.seqGaps++;
    r.lost += (seq - r.expectSeq) & 0xffff;
  }
  r.expectSeq = (seq + 1) & 0xffff;
  if ((head[1]! & 0x80) === 0) return;
  const ts = head.readUInt32BE(4);
  r.extTs = r.minOffset === Infinity ? 0 : r.extTs + ((ts - r.lastTs) | 0);
  r.lastTs = ts;
  r.frames++;
  const offset = Date.now() - r.extTs / (RTP_CLOCK / 1000);
  if (offset < r.minOffset) r.minOffset = offset;
  const lag = offset - r.minOffset;
  if (lag > r.maxLag) r.maxLag = lag;
}

/** Sends raw bytes on a fresh connection and collects what comes back until close or timeout. */
export function rawExchange(
  host: string,
  port: number,
  data: string | Buffer,
  timeoutMs = 2000,
): Promise<string> {
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
